#!/usr/bin/python3
"""Converts an AlexNet-shaped ONNX graph to a libalexnet model file (safetensors).

    /usr/bin/python3 tools/convert_onnx.py model.onnx model.safetensors [--classes FILE]
                                           [--preprocessing caffe|imagenet|plain]

The graph must be one of libalexnet's architectures, layer for layer: torchvision's AlexNet
(as torch.onnx.export writes it) or the paper's (Conv with group 2, LRN after conv1 and conv2),
which is also the structure of the ONNX model zoo's bvlc_alexnet (Caffe's weights, 224 x 224
input). Accepted nodes: Conv, Relu or Tanh (one kind throughout), LRN (its constants are kept; in
every stage the architecture has it, or in none), MaxPool (3x3 or 2x2 windows, all alike, at
stride 2; floor rounding, or Caffe's ceil rounding written as ceil_mode or as padding at the end),
AveragePool of 1x1 (torchvision's adaptive pooling at 224), Flatten or Reshape before the
classifier, Gemm or MatMul + Add, Dropout, Identity, and a final Softmax (libalexnet gives logits).
So the paper's ablations (tanh, no LRN, 2x2 pooling) that tools/export_onnx.py writes come back as
the networks they were. Anything else is refused with a message naming the first node that does
not fit.

Class names and the preprocessing the weights expect are stored with the network: from the
options, else from the graph's metadata (tools/export_onnx.py writes them there), else ImageNet's
class names for 1,000 classes and Caffe's preprocessing for the paper's architecture (its only
published weights are Caffe's), torchvision's for torchvision's.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # also when run by a link
from model_files import (ARCHS, POOL_KERNEL, POOL_STRIDE, PREPROCESSING, class_names,  # noqa: E402
                         make_config, write_model)

PASS_THROUGH = {"Dropout", "Identity"}
ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh"}  # ONNX's name -> alexnet.config's "activation"
POOL_SIZES = (3, 2)  # the paper's overlapping 3x3 windows, or its comparison's adjacent 2x2


class Refused(Exception):
    pass


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def describe(node):
    return f"node '{node.name or node.output[0]}' ({node.op_type})"


def read_graph(model):
    """The graph as a list of layers: ("conv", w, b, attrs), ("act", "relu" or "tanh", node),
    ("lrn", attrs, node), ("pool", attrs, node), ("flatten",), ("fc", w [out, in], b)."""
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
        elif op in ACTIVATIONS:
            layers.append(("act", ACTIVATIONS[op], node))
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


def lrn_settings(layers, k):
    """The LRN at layers[k] as {"size", "alpha", "beta", "k"} (ONNX's convention is PyTorch's and
    libalexnet's: alpha is divided by the size)."""
    a, node = layers[k][1], layers[k][2]
    got = {"size": a.get("size", 0), "alpha": a.get("alpha", 1e-4), "beta": a.get("beta", 0.75),
           "k": a.get("bias", 1.0)}
    if not (1 <= got["size"] <= 15 and 0 <= got["alpha"] <= 1 and 0 <= got["beta"] <= 4 and
            0 < got["k"] <= 1000):
        raise Refused(f"{describe(node)}: size {got['size']}, alpha {got['alpha']:g}, beta "
                      f"{got['beta']:g}, bias {got['k']:g}; libalexnet's LRN takes sizes 1 to 15, "
                      "alpha 0 to 1, beta 0 to 4 and bias above 0")
    return got, node


def pool_rounding(a, node, side):
    """How a MaxPool rounds at this input side: "floor", "ceil" (ceil_mode, or Caffe's rounding
    as extra padding at the end, which the model zoo's graphs use), or "either" where the two
    agree; its window side; and the side after it."""
    pads, window = list(a.get("pads", [0] * 4)), list(a.get("kernel_shape", []))
    if len(window) != 2 or window[0] != window[1] or window[0] not in POOL_SIZES or \
            list(a.get("strides", [1, 1])) != [POOL_STRIDE] * 2 or len(pads) != 4 or \
            pads[0] or pads[1] or pads[2] != pads[3] or not 0 <= pads[2] < POOL_STRIDE or \
            a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise Refused(f"{describe(node)}: max pooling must be 3x3 or 2x2 with stride 2, padded "
                      "at most at the end (Caffe's rounding)")
    size = window[0]
    floor = (side - size) // POOL_STRIDE + 1
    ceil = -(-(side - size) // POOL_STRIDE) + 1
    rounds_up = a.get("ceil_mode", 0)
    got = (side + pads[2] - size + (POOL_STRIDE - 1 if rounds_up else 0)) // POOL_STRIDE + 1
    if got == floor == ceil:
        return "either", size, got
    if got == ceil:
        return "ceil", size, got
    if got == floor and not pads[2]:
        return "floor", size, got
    raise Refused(f"{describe(node)}: pools a {side}-pixel map to {got}, which neither floor "
                  f"({floor}) nor Caffe's ceil ({ceil}) rounding gives")


def match(layers, side):
    """The architecture the layers are, the network's settings (a dict of make_config's keyword
    arguments: height, width, pool_ceil, lrn, activation, pool_size) and the weights under
    canonical names."""
    errors = []
    for arch, spec in ARCHS.items():
        try:
            return (arch,) + match_arch(layers, spec, arch, side or spec["side"])
        except Refused as why:
            errors.append(f"not {arch}: {why}")
    raise Refused("; ".join(errors))


class Uniform:
    """A choice libalexnet makes once per network (the activation, LRN on or off, the pooling
    window), as the graph's nodes make it: the first node decides, a later one that differs is
    refused."""

    def __init__(self, what, words=str):
        self.what, self.words, self.value, self.first = what, words, None, None

    def take(self, value, where):
        if self.value is None:
            self.value, self.first = value, where
        elif value != self.value:
            raise Refused(f"{where} has {self.words(value)}, where {self.first} has "
                          f"{self.words(self.value)}; libalexnet's layers share one {self.what}")


def expect_activation(layers, k, name, activation):
    if k >= len(layers) or layers[k][0] != "act":
        raise Refused(f"{name}: expected a Relu or Tanh after it")
    activation.take(layers[k][1], describe(layers[k][2]))
    return k + 1


def match_arch(layers, spec, arch, input_side):
    weights, side, channels, k = {}, input_side, 3, 0
    lrn, rounding = None, set()
    activation = Uniform("activation")
    lrn_on = Uniform("LRN setting", lambda on: "an LRN" if on else "no LRN")
    pool_size = Uniform("pooling window", lambda size: f"{size}x{size} windows")
    for index, (out, kernel, stride, pad, groups, has_lrn, pool) in enumerate(spec["convs"]):
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
        k = expect_activation(layers, k, name, activation)
        if has_lrn:
            present = k < len(layers) and layers[k][0] == "lrn"
            lrn_on.take(present, name)
        if has_lrn and present:
            got, node = lrn_settings(layers, k)
            if lrn is not None and got != lrn:
                raise Refused(f"{describe(node)}: its constants differ from the first LRN's; "
                              "libalexnet's LRN layers share theirs")
            lrn, k = got, k + 1
        if pool:
            if k >= len(layers) or layers[k][0] != "pool":
                raise Refused(f"{name}: expected a MaxPool after it")
            kind, size, side = pool_rounding(layers[k][1], layers[k][2], side)
            pool_size.take(size, describe(layers[k][2]))
            rounding.add(kind)
            if rounding >= {"floor", "ceil"}:
                raise Refused(f"{describe(layers[k][2])}: rounds otherwise than an earlier "
                              "MaxPool; libalexnet's pooling layers round alike")
            k += 1
        if side < 1:
            raise Refused(f"{name}: a {input_side}-pixel input leaves nothing after it")
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
            k = expect_activation(layers, k, name, activation)
    if k != len(layers):
        raise Refused(f"unexpected layers after fc8: {[layer[0] for layer in layers[k:]]}")
    settings = {"height": input_side, "width": input_side, "pool_ceil": int("ceil" in rounding),
                "activation": activation.value,
                "pool_size": pool_size.value or POOL_KERNEL}
    if lrn_on.value is not None:
        settings["lrn"] = lrn if lrn_on.value else False
    return settings, weights


def input_side(model):
    """The side of the graph's square input, or None where it is not fixed."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    sides = [d.dim_value if d.HasField("dim_value") else None for d in dims[2:]]
    if len(dims) != 4 or None in sides:
        return None
    if sides[0] != sides[1]:
        raise Refused(f"input '{model.graph.input[0].name}' is {sides[0]}x{sides[1]}; the "
                      "converter takes square inputs")
    return sides[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("onnx")
    parser.add_argument("output")
    parser.add_argument("--classes", help="class names, one per line (default: what the graph's "
                        "metadata holds, else ImageNet's for 1,000 classes, from Debian's "
                        "torchvision)")
    parser.add_argument("--preprocessing", choices=sorted(PREPROCESSING),
                        help="how the weights expect images (default: what the graph's metadata "
                        "holds, else caffe for the paper's architecture, whose published weights "
                        "are Caffe's, and imagenet for torchvision's)")
    args = parser.parse_args()
    model = onnx.load(args.onnx)
    onnx.checker.check_model(model)
    props = {p.key: p.value for p in model.metadata_props}
    try:
        arch, settings, weights = match(read_graph(model), input_side(model))
    except Refused as why:
        sys.exit(f"{args.onnx}: not an AlexNet libalexnet can load: {why}")
    classes = int(weights["fc8.bias"].shape[0])
    if args.classes or "alexnet.classes" not in props:
        names = class_names(args.classes, classes)
    else:
        names = json.loads(props["alexnet.classes"])
    if args.preprocessing:
        preprocessing = PREPROCESSING[args.preprocessing]
    elif "alexnet.preprocessing" in props:
        preprocessing = json.loads(props["alexnet.preprocessing"])
    else:
        preprocessing = PREPROCESSING["caffe" if arch == "paper" else "imagenet"]
    config = make_config(arch, classes, **settings)
    write_model(args.output, config, {k: np.asarray(v, np.float32) for k, v in weights.items()},
                names, preprocessing)
    side, changes = settings["height"], []
    if settings["pool_ceil"]:
        changes.append("Caffe pooling")
    if settings["activation"] != "relu":
        changes.append(settings["activation"])
    if settings.get("lrn") is False:
        changes.append("no LRN")
    if settings["pool_size"] != POOL_KERNEL:
        changes.append(f"{settings['pool_size']}x{settings['pool_size']} pooling")
    print(f"wrote {arch} network ({classes} classes, {side}x{side} input"
          f"{''.join(', ' + change for change in changes)}) to {args.output}")


if __name__ == "__main__":
    main()
