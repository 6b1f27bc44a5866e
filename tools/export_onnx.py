#!/usr/bin/python3
"""Writes a libalexnet model file (PAPER or TORCHVISION) as an ONNX graph.

    /usr/bin/python3 tools/export_onnx.py model.safetensors model.onnx [--opset N]

The graph takes "input" [N, 3, H, W] at the network's input size and gives "logits"
[N, classes], layer for layer as libalexnet computes them (Conv, Relu — or Tanh for a network
built with that activation —, LRN with the network's constants unless it has none, MaxPool of
the network's window with ceil_mode where the network rounds as Caffe, Flatten, Gemm; dropout is
an inference no-op and is left out). tools/convert_onnx.py reads back the graphs of AlexNet's own
choices (ReLU, its LRN layers, 3x3 pooling), not those of the paper's ablations. The class names and preprocessing go into the model's
metadata_props. onnx.checker accepts it, and tools/convert_onnx.py turns it back into the same
file contents, weights bit for bit.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # also when run by a link
from model_files import (ARCHS, PAPER_LRN, POOL_KERNEL, POOL_STRIDE, default_preprocessing,  # noqa: E402
                         feature_side, read_model)


def build_graph(config, weights, metadata, opset):
    arch, height, width = config["arch"], config["in_height"], config["in_width"]
    spec = ARCHS[arch]
    lrn = config.get("lrn", {"size": PAPER_LRN["size"], "alpha": PAPER_LRN["alpha"],
                             "beta": PAPER_LRN["beta"], "k": PAPER_LRN["bias"]})
    ceil = {"ceil_mode": 1} if config.get("pool_ceil") else {}
    pool_size = config.get("pool_size", POOL_KERNEL)
    activation = "Tanh" if config.get("activation", "relu") == "tanh" else "Relu"
    with_lrn = config.get("lrn") is not False  # false: the architecture's LRN is switched off
    nodes, flow = [], "input"

    def add(op, inputs, name, **attrs):
        nonlocal flow
        nodes.append(helper.make_node(op, [flow] + inputs, [name], name=name, **attrs))
        flow = name

    for index, (out, kernel, stride, pad, groups, has_lrn, pool) in enumerate(spec["convs"]):
        layer = f"conv{index + 1}"
        add("Conv", [f"{layer}.weight", f"{layer}.bias"], layer, kernel_shape=[kernel, kernel],
            strides=[stride, stride], pads=[pad] * 4, group=groups)
        add(activation, [], f"{activation.lower()}{index + 1}")
        if has_lrn and with_lrn:
            add("LRN", [], f"lrn{index + 1}", size=lrn["size"], alpha=lrn["alpha"],
                beta=lrn["beta"], bias=lrn["k"])
        if pool:
            add("MaxPool", [], f"pool{index + 1}", kernel_shape=[pool_size] * 2,
                strides=[POOL_STRIDE] * 2, **ceil)
    add("Flatten", [], "flatten", axis=1)
    for index, layer in enumerate(("fc6", "fc7", "fc8")):
        add("Gemm", [f"{layer}.weight", f"{layer}.bias"], "logits" if index == 2 else layer,
            transB=1)
        if index < 2:
            add(activation, [], f"{activation.lower()}{index + 6}")
    classes = int(weights["fc8.bias"].shape[0])
    initializers = [numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name)
                    for name, array in weights.items()]
    graph = helper.make_graph(
        nodes, f"alexnet_{arch}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, height, width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializers)
    model = helper.make_model(graph, producer_name="libalexnet",
                              opset_imports=[helper.make_opsetid("", opset)])
    # null: no names, so that converting back does not give ImageNet's to a 1,000-class network
    model.metadata_props.add(key="alexnet.classes", value=metadata.get("alexnet.classes", "null"))
    model.metadata_props.add(key="alexnet.preprocessing", value=metadata.get(
        "alexnet.preprocessing", json.dumps(default_preprocessing(config))))
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    config, weights, metadata = read_model(args.model)
    arch = config.get("arch")
    if arch not in ARCHS:
        sys.exit(f"{args.model}: a {arch} network; ONNX export covers "
                 f"{' and '.join(sorted(ARCHS))}")
    if config.get("in_channels") != 3:
        sys.exit(f"{args.model}: export takes RGB networks (3 input channels)")
    if config["in_height"] != config["in_width"]:
        sys.exit(f"{args.model}: export takes square inputs")
    if arch == "torchvision" and feature_side(arch, config["in_height"], config.get("pool_ceil", 0),
                                              config.get("pool_size", 3)) != 6:
        sys.exit(f"{args.model}: at a {config['in_height']}-pixel input torchvision's adaptive "
                 "pooling is not the identity; export takes inputs that give a 6x6 map (224)")
    if config.get("pool_ceil") and args.opset < 10:
        sys.exit(f"{args.model}: Caffe's pooling needs MaxPool's ceil_mode, from opset 10")
    onnx.save(build_graph(config, weights, metadata, args.opset), args.output)
    print(f"wrote {arch} network to {args.output}")


if __name__ == "__main__":
    main()
