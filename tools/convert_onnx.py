#!/usr/bin/python3
"""Converts an AlexNet-shaped ONNX graph to a libalexnet model file (safetensors).

    /usr/bin/python3 tools/convert_onnx.py model.onnx model.safetensors [--classes FILE]

The graph must be one of libalexnet's architectures, layer for layer: torchvision's AlexNet
(as torch.onnx.export writes it) or the paper's (Conv with group 2, LRN after conv1 and conv2).
Accepted nodes: Conv, Relu, LRN, MaxPool (3x3, stride 2; ceil_mode only where it gives the same
sizes at the network's input), AveragePool of 1x1 (torchvision's adaptive pooling at 224),
Flatten or Reshape before the classifier, Gemm or MatMul + Add, Dropout, Identity, and a final
Softmax (libalexnet gives logits). Anything else is refused with a message naming the first node
that does not fit. Class names: --classes FILE (one per line), or ImageNet's for 1,000 classes.
"""
import argparse
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # also when run by a link
from model_files import (ARCHS, PAPER_LRN, POOL_KERNEL, POOL_STRIDE, class_names,  # noqa: E402
                         write_model)

PASS_THROUGH = {"Dropout", "Identity"}


class Refused(Exception):
    pass


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def describe(node):
    return f"node '{node.name or node.output[0]}' ({node.op_type})"


def read_graph(model):
    """The graph as a list of layers: ("conv", w, b, attrs), ("relu",), ("lrn", attrs),
    ("pool", attrs), ("flatten",), ("fc", w [out, in], b)."""
    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # Constant nodes (Reshape's shape, say) count as initializers
        if node.op_type == "Constant":
            constants[node.output[0]] = numpy_helper.to_array(attributes(node)["value"])
    layers, nodes = [], [n for n in graph.node if n.op_type != "Constant"]
    i = 0
    while i < len(nodes):
        node, a = nodes[i], attributes(nodes[i])
        op = node.op_type
        if op == "Conv":
            if list(a.get("dilations", [1, 1])) != [1, 1]:
                raise Refused(f"{describe(node)}: dilated convolutions are not AlexNet's")
            w = constants.get(node.input[1])
            b = constants.get(node.input[2]) if len(node.input) > 2 else None
            if w is None:
                raise Refused(f"{describe(node)}: its weights are not constants")
            layers.append(("conv", w, np.zeros(w.shape[0], np.float32) if b is None else b, a))
        elif op == "Relu":
            layers.append(("relu",))
        elif op == "LRN":
            layers.append(("lrn", a, node))
        elif op == "MaxPool":
            layers.append(("pool", a, node))
        elif op == "AveragePool":
            if list(a.get("kernel_shape", [])) != [1, 1] or list(a.get("strides", [1, 1])) != [1, 1]:
                raise Refused(f"{describe(node)}: only a 1x1 average pooling (an identity) fits")
        elif op in ("Flatten", "Reshape"):
            layers.append(("flatten",))
        elif op == "Gemm":
            w, b = constants.get(node.input[1]), constants.get(node.input[2])
            if w is None or b is None or a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or \
                    a.get("beta", 1.0) != 1.0:
                raise Refused(f"{describe(node)}: only Gemm(x, W, b) with constant W and b fits")
            layers.append(("fc", w if a.get("transB", 0) else w.T, b))
        elif op == "MatMul":
            add = nodes[i + 1] if i + 1 < len(nodes) else None
            w = constants.get(node.input[1])
            b = constants.get(add.input[1]) if add is not None and add.op_type == "Add" else None
            if w is None or b is None:
                raise Refused(f"{describe(node)}: only MatMul by constant weights then Add of a "
                              "constant bias fits")
            layers.append(("fc", w.T, b))
            i += 1
        elif op == "Softmax":
            if i != len(nodes) - 1:
                raise Refused(f"{describe(node)}: Softmax is accepted only as the last node")
        elif op not in PASS_THROUGH:
            raise Refused(f"{describe(node)}: {op} is not a layer of AlexNet")
        i += 1
    return layers


def pool_fits(a, node, side):
    """Checks a MaxPool against libalexnet's 3x3 / 2 (floor) at this input side; the side after."""
    if list(a.get("kernel_shape", [])) != [POOL_KERNEL] * 2 or \
            list(a.get("strides", [1, 1])) != [POOL_STRIDE] * 2 or any(a.get("pads", [0] * 4)):
        raise Refused(f"{describe(node)}: max pooling must be 3x3 with stride 2 and no padding")
    floor = (side - POOL_KERNEL) // POOL_STRIDE + 1
    if a.get("ceil_mode", 0) and math.ceil((side - POOL_KERNEL) / POOL_STRIDE) + 1 != floor:
        raise Refused(f"{describe(node)}: ceil_mode pooling of a {side}-pixel map gives another "
                      "size than libalexnet's floor rounding")
    return floor


def match(layers):
    """The architecture the layers are, and the weights under canonical names."""
    errors = []
    for arch, spec in ARCHS.items():
        try:
            return arch, match_arch(layers, spec, arch)
        except Refused as why:
            errors.append(f"not {arch}: {why}")
    raise Refused("; ".join(errors))


def match_arch(layers, spec, arch):
    weights, side, channels, k = {}, spec["side"], 3, 0
    for index, (out, kernel, stride, pad, groups, lrn, pool) in enumerate(spec["convs"]):
        name = f"conv{index + 1}"
        if k >= len(layers) or layers[k][0] != "conv":
            raise Refused(f"{name}: expected a convolution")
        _, w, b, a = layers[k]
        expected = (out, channels // groups, kernel, kernel)
        if tuple(w.shape) != expected or a.get("group", 1) != groups or \
                list(a.get("strides", [1, 1])) != [stride] * 2 or \
                list(a.get("pads", [0] * 4)) != [pad] * 4:
            raise Refused(f"{name}: weights {list(w.shape)}, group {a.get('group', 1)}, stride "
                          f"{list(a.get('strides', [1, 1]))}, pads {list(a.get('pads', [0] * 4))}; "
                          f"{arch} has {list(expected)}, group {groups}, stride {stride}, pad {pad}")
        weights[f"{name}.weight"], weights[f"{name}.bias"] = w, b
        side = (side + 2 * pad - kernel) // stride + 1
        channels, k = out, k + 1
        if k >= len(layers) or layers[k][0] != "relu":
            raise Refused(f"{name}: expected a Relu after it")
        k += 1
        if lrn:
            if k >= len(layers) or layers[k][0] != "lrn":
                raise Refused(f"{name}: expected an LRN after its Relu")
            got = {key: layers[k][1].get(key, default) for key, default in
                   (("size", 0), ("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0))}
            if got["size"] != PAPER_LRN["size"] or any(
                    not math.isclose(got[key], PAPER_LRN[key], rel_tol=1e-6)
                    for key in ("alpha", "beta", "bias")):
                raise Refused(f"{describe(layers[k][2])}: size {got['size']}, alpha "
                              f"{got['alpha']:g}, beta {got['beta']:g}, bias {got['bias']:g}; "
                              f"libalexnet's LRN is size 5, alpha 5e-4, beta 0.75, bias 2")
            k += 1
        if pool:
            if k >= len(layers) or layers[k][0] != "pool":
                raise Refused(f"{name}: expected a MaxPool after it")
            side = pool_fits(layers[k][1], layers[k][2], side)
            k += 1
    if k < len(layers) and layers[k][0] == "flatten":
        k += 1
    features, hidden = channels * side * side, spec["hidden"]
    for index, name in enumerate(("fc6", "fc7", "fc8")):
        if k >= len(layers) or layers[k][0] != "fc":
            raise Refused(f"{name}: expected a fully connected layer")
        w, b = layers[k][1], layers[k][2]
        inputs = features if index == 0 else hidden
        if w.shape[1] != inputs or (index < 2 and w.shape[0] != hidden) or b.shape != w.shape[:1]:
            raise Refused(f"{name}: weights {list(w.shape)}; {arch} takes {inputs} inputs"
                          + (f" to {hidden}" if index < 2 else ""))
        weights[f"{name}.weight"], weights[f"{name}.bias"] = w, b
        k += 1
        if index < 2:
            if k >= len(layers) or layers[k][0] != "relu":
                raise Refused(f"{name}: expected a Relu after it")
            k += 1
    if k != len(layers):
        raise Refused(f"unexpected layers after fc8: {[layer[0] for layer in layers[k:]]}")
    return weights


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("onnx")
    parser.add_argument("output")
    parser.add_argument("--classes", help="class names, one per line (default for 1,000 classes: "
                        "ImageNet's, from Debian's torchvision)")
    args = parser.parse_args()
    model = onnx.load(args.onnx)
    onnx.checker.check_model(model)
    try:
        arch, weights = match(read_graph(model))
    except Refused as why:
        sys.exit(f"{args.onnx}: not an AlexNet libalexnet can load: {why}")
    classes = int(weights["fc8.bias"].shape[0])
    names = class_names(args.classes, classes)
    write_model(args.output, arch, {k: np.asarray(v, np.float32) for k, v in weights.items()},
                names)
    print(f"wrote {arch} network ({classes} classes) to {args.output}")


if __name__ == "__main__":
    main()
