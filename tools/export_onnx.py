#!/usr/bin/python3
"""Writes a libalexnet model file (PAPER or TORCHVISION) as an ONNX graph.

    /usr/bin/python3 tools/export_onnx.py model.safetensors model.onnx [--opset N]

The graph takes "input" [N, 3, H, W] at the network's input size and gives "logits"
[N, classes], layer for layer as libalexnet computes them (Conv, Relu, LRN, MaxPool, Flatten,
Gemm; dropout is an inference no-op and is left out). onnx.checker accepts it, and
tools/convert_onnx.py turns it back into the same weights, bit for bit.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # also when run by a link
from model_files import ARCHS, PAPER_LRN, POOL_KERNEL, POOL_STRIDE, read_model  # noqa: E402


def build_graph(arch, weights, opset):
    spec = ARCHS[arch]
    nodes, flow = [], "input"

    def add(op, inputs, name, **attrs):
        nonlocal flow
        nodes.append(helper.make_node(op, [flow] + inputs, [name], name=name, **attrs))
        flow = name

    for index, (out, kernel, stride, pad, groups, lrn, pool) in enumerate(spec["convs"]):
        layer = f"conv{index + 1}"
        add("Conv", [f"{layer}.weight", f"{layer}.bias"], layer, kernel_shape=[kernel, kernel],
            strides=[stride, stride], pads=[pad] * 4, group=groups)
        add("Relu", [], f"relu{index + 1}")
        if lrn:
            add("LRN", [], f"lrn{index + 1}", size=PAPER_LRN["size"], alpha=PAPER_LRN["alpha"],
                beta=PAPER_LRN["beta"], bias=PAPER_LRN["bias"])
        if pool:
            add("MaxPool", [], f"pool{index + 1}", kernel_shape=[POOL_KERNEL] * 2,
                strides=[POOL_STRIDE] * 2)
    add("Flatten", [], "flatten", axis=1)
    for index, layer in enumerate(("fc6", "fc7", "fc8")):
        add("Gemm", [f"{layer}.weight", f"{layer}.bias"], "logits" if index == 2 else layer,
            transB=1)
        if index < 2:
            add("Relu", [], f"relu{index + 6}")
    side, classes = spec["side"], int(weights["fc8.bias"].shape[0])
    initializers = [numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name)
                    for name, array in weights.items()]
    graph = helper.make_graph(
        nodes, f"alexnet_{arch}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])],
        initializers)
    model = helper.make_model(graph, producer_name="libalexnet",
                              opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    config, weights, _ = read_model(args.model)
    arch = config.get("arch")
    if arch not in ARCHS:
        sys.exit(f"{args.model}: a {arch} network; ONNX export covers "
                 f"{' and '.join(sorted(ARCHS))}")
    if config.get("in_channels") != 3 or config.get("in_height") != ARCHS[arch]["side"] or \
            config.get("in_width") != ARCHS[arch]["side"]:
        sys.exit(f"{args.model}: export takes {arch} at its standard 3 x {ARCHS[arch]['side']} x "
                 f"{ARCHS[arch]['side']} input")
    onnx.save(build_graph(arch, weights, args.opset), args.output)
    print(f"wrote {arch} network to {args.output}")


if __name__ == "__main__":
    main()
