"""ONNX in and out (tools/convert_onnx.py, tools/export_onnx.py), with Debian's python3-onnx:
1. torch.onnx.export of torchvision's AlexNet converts, and libalexnet then gives torch's logits;
2. a graph of the paper's architecture built with onnx.helper (groups 2, LRN) converts likewise,
   against the PyTorch reference PAPER model;
3. an LRN the library does not compute (the Caffe model zoo's constants) is refused, naming the
   node; so is a graph that is not AlexNet;
4. export_onnx of a file libalexnet wrote passes onnx.checker, and converting it back gives the
   same tensors, bit for bit, for PAPER and TORCHVISION.

Usage: onnx_interop.py path/to/libalexnet.so
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from safetensors_io import read_safetensors
from torch_reference import (PAPER, assert_same_logits, canonical_modules, load_package,
                             torch_model)

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
alexnet = load_package(sys.argv[1])


def run_tool(name, *args, fails=False):
    result = subprocess.run([sys.executable, os.path.join(TOOLS, name), *map(str, args)],
                            capture_output=True, text=True)
    if fails:
        assert result.returncode != 0, f"{name} accepted {args}"
        return result.stderr
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_file_gives_torchs_logits(path, model, side, what):
    with alexnet.Network.load(path) as net:
        assert_same_logits(net, model, side, what)


def paper_graph(model, lrn_alpha=5e-4, lrn_bias=2.0):
    """The PAPER reference model as an ONNX graph written node by node with onnx.helper."""
    nodes, flow, inits = [], "data", []

    def add(op, inputs, name, **attrs):
        nonlocal flow
        nodes.append(helper.make_node(op, [flow] + inputs, [name], name=name, **attrs))
        flow = name

    for name, module in canonical_modules(model):
        w = module.weight.detach().numpy()
        inits += [numpy_helper.from_array(w, f"{name}_w"),
                  numpy_helper.from_array(module.bias.detach().numpy(), f"{name}_b")]
        if name.startswith("conv"):
            k = module.kernel_size[0]
            add("Conv", [f"{name}_w", f"{name}_b"], name, kernel_shape=[k, k],
                strides=list(module.stride), pads=[module.padding[0]] * 4, group=module.groups)
            add("Relu", [], f"{name}_relu")
            if name in ("conv1", "conv2"):
                add("LRN", [], f"{name}_norm", size=5, alpha=lrn_alpha, beta=0.75, bias=lrn_bias)
            if name in ("conv1", "conv2", "conv5"):
                add("MaxPool", [], f"{name}_pool", kernel_shape=[3, 3], strides=[2, 2])
            if name == "conv5":
                add("Flatten", [], "flat", axis=1)
        else:
            add("Gemm", [f"{name}_w", f"{name}_b"], name, transB=1)
            if name != "fc8":
                add("Relu", [], f"{name}_relu")
                add("Dropout", [], f"{name}_drop")
    add("Softmax", [], "prob", axis=1)
    graph = helper.make_graph(
        nodes, "bvlc_alexnet_structure",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 227, 227])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1000])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        # 1. torch.onnx.export of torchvision's AlexNet
        import torchvision
        tv = torchvision.models.alexnet().eval()
        torch.onnx.export(tv, torch.zeros(1, 3, 224, 224), f"{tmp}/tv.onnx", opset_version=13)
        run_tool("convert_onnx.py", f"{tmp}/tv.onnx", f"{tmp}/tv.safetensors")
        assert_file_gives_torchs_logits(f"{tmp}/tv.safetensors", tv, 224,
                                        "torch.onnx.export of torchvision")
        with alexnet.Network.load(f"{tmp}/tv.safetensors") as net:
            assert net.class_names[0] == "tench", net.class_names[:3]

        # 2. the paper's structure, node by node
        paper = torch_model(PAPER, 3, 227, 1000).eval()
        onnx.save(paper_graph(paper), f"{tmp}/paper.onnx")
        run_tool("convert_onnx.py", f"{tmp}/paper.onnx", f"{tmp}/paper.safetensors")
        assert_file_gives_torchs_logits(f"{tmp}/paper.safetensors", paper, 227,
                                        "PAPER graph from onnx.helper")

        # 3. refusals name the node
        onnx.save(paper_graph(paper, lrn_alpha=1e-4, lrn_bias=1.0), f"{tmp}/zoo_lrn.onnx")
        message = run_tool("convert_onnx.py", f"{tmp}/zoo_lrn.onnx", f"{tmp}/x.safetensors",
                           fails=True)
        assert "node 'conv1_norm' (LRN)" in message and "alpha 0.0001" in message, message
        other = helper.make_model(helper.make_graph(
            [helper.make_node("Tanh", ["x"], ["y"], name="squash")], "not_alexnet",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]),
            opset_imports=[helper.make_opsetid("", 13)])
        onnx.save(other, f"{tmp}/other.onnx")
        message = run_tool("convert_onnx.py", f"{tmp}/other.onnx", f"{tmp}/x.safetensors",
                           fails=True)
        assert "node 'squash' (Tanh)" in message, message
        print("refusals name the node")

        # 4. export, then import: bit-exact
        for arch in ("paper", "torchvision"):
            original = f"{tmp}/{arch}_ours.safetensors"
            with alexnet.Network(arch, seed=11) as net:
                net.save(original)
            run_tool("export_onnx.py", original, f"{tmp}/{arch}_ours.onnx")
            onnx.checker.check_model(onnx.load(f"{tmp}/{arch}_ours.onnx"))
            run_tool("convert_onnx.py", f"{tmp}/{arch}_ours.onnx", f"{tmp}/{arch}_back.safetensors")
            _, before = read_safetensors(original)
            _, after = read_safetensors(f"{tmp}/{arch}_back.safetensors")
            for name, array in before.items():
                key = name if name in after else None
                assert key is not None, f"{arch}: {name} missing after the round trip"
                assert np.array_equal(array, after[key]) and array.dtype == after[key].dtype, name
            print(f"{arch}: export then import is bit-exact ({len(before)} tensors)")


if __name__ == "__main__":
    main()
