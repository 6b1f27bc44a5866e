"""ONNX in and out (tools/convert_onnx.py, tools/export_onnx.py), with Debian's python3-onnx:
1. torch.onnx.export of torchvision's AlexNet converts, and libalexnet then gives torch's logits;
2. a graph of the paper's architecture built with onnx.helper (groups 2, LRN) converts likewise,
   against the PyTorch reference PAPER model;
3. a graph of the ONNX model zoo's bvlc_alexnet structure (224 x 224 input, Caffe's LRN
   constants, Caffe's ceil rounding written as padding at the end of pool1, as the zoo's file has
   it, or as ceil_mode) converts to a PAPER network configured as Caffe's, with Caffe's
   preprocessing recorded, and gives the logits of the PyTorch reference built the same way;
4. graphs that do not fit are refused, naming the node;
5. export_onnx of a file libalexnet wrote passes onnx.checker, and converting it back gives the
   same tensors, bit for bit, and the same configuration, class names and preprocessing, for
   TORCHVISION (a file with neither names nor preprocessing) and the Caffe-configured PAPER;
6. a network built with the paper's ablation switches (tanh, no LRN, 2x2 pooling) exports to the
   graph of what it computes, and converting that back gives the same network: its tensors bit
   for bit, its configuration, and its logits to the bit; a graph that mixes the choices (a Relu
   among Tanh nodes, LRN after conv1 only, 2x2 and 3x3 pools) is refused, naming the node.

Usage: onnx_interop.py path/to/libalexnet.so
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

from onnx_graphs import paper_graph
from safetensors_io import read_safetensors
from torch_reference import (CAFFE, PAPER, assert_same_logits, load_package,
                             torch_model)

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools")
alexnet = load_package(sys.argv[1])
sys.path.insert(0, TOOLS)
import convert_onnx  # noqa: E402


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


def assert_caffe_network(path, what):
    with alexnet.Network.load(path) as net:
        cfg = net.config
        assert (cfg["arch"], cfg["height"], cfg["pool_ceil"], cfg["lrn_size"], cfg["lrn_beta"],
                cfg["lrn_k"]) == ("paper", 224, 1, 5, 0.75, 1.0), (what, cfg)
        assert cfg["lrn_alpha"] == np.float32(1e-4), (what, cfg)
        assert net.preprocessing == alexnet.preprocessing("caffe"), (what, net.preprocessing)
        assert net.class_names[0] == "tench", net.class_names[:3]
    metadata, _ = read_safetensors(path)
    assert metadata["alexnet.format"] == "2", metadata["alexnet.format"]


def assert_refused(graph, expected):
    """The converter's own functions, in process (saving 240 MB graphs only to be refused would
    double this test's time; the command line's refusal is the Sigmoid case): the graph is
    refused, and the message holds `expected`."""
    try:
        convert_onnx.match(convert_onnx.read_graph(graph), convert_onnx.input_side(graph))
    except convert_onnx.Refused as why:
        assert expected in str(why), why
    else:
        raise AssertionError(f"accepted a graph that should be refused: {expected}")


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

        # 3. the model zoo's bvlc_alexnet structure: Caffe's LRN and pooling, at 224
        zoo = torch_model(PAPER, 3, 224, 1000, **CAFFE).eval()
        for encoding, pool1 in (("padding at the end", {"pads": [0, 0, 1, 1]}),
                                ("ceil_mode", {"ceil_mode": 1})):
            onnx.save(paper_graph(zoo, 224, 1e-4, 1.0, pool1), f"{tmp}/zoo.onnx")
            output = run_tool("convert_onnx.py", f"{tmp}/zoo.onnx", f"{tmp}/zoo.safetensors")
            assert "224x224 input, Caffe pooling" in output, output
            assert_caffe_network(f"{tmp}/zoo.safetensors", encoding)
            assert_file_gives_torchs_logits(f"{tmp}/zoo.safetensors", zoo, 224,
                                            f"bvlc_alexnet structure, Caffe's rounding as {encoding}")

        # 4. refusals name the node
        for graph, node in ((paper_graph(zoo, 224, 1e-4, 1.0, {"pads": [1, 1, 1, 1]}),
                             "node 'conv1_pool' (MaxPool)"),
                            (paper_graph(paper, lrn2=dict(size=5, alpha=1e-4, beta=0.75,
                                                          bias=1.0)),
                             "node 'conv2_norm' (LRN)"),
                            (paper_graph(paper, lrn_alpha=2.0), "node 'conv1_norm' (LRN)"),
                            (paper_graph(zoo, 224, 1e-4, 1.0),  # floor rounding: too small
                             "fc6: weights [4096, 9216]; paper takes 6400 inputs")):
            assert_refused(graph, node)
        other = helper.make_model(helper.make_graph(
            [helper.make_node("Sigmoid", ["x"], ["y"], name="squash")], "not_alexnet",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]),
            opset_imports=[helper.make_opsetid("", 13)])
        onnx.save(other, f"{tmp}/other.onnx")
        message = run_tool("convert_onnx.py", f"{tmp}/other.onnx", f"{tmp}/x.safetensors",
                           fails=True)
        assert "node 'squash' (Sigmoid)" in message, message
        print("refusals name the node")

        # 5. export, then import: bit-exact, metadata kept
        # (PAPER with the paper's constants is the Caffe case with defaults: the Caffe one covers
        # what it would, and the two 240 MB round trips are most of this test's time.)
        originals = {"torchvision": f"{tmp}/torchvision_ours.safetensors",
                     "caffe": f"{tmp}/zoo.safetensors"}
        with alexnet.Network("torchvision", seed=11) as net:
            net.save(originals["torchvision"])
        for name, original in originals.items():
            run_tool("export_onnx.py", original, f"{tmp}/{name}_ours.onnx")
            onnx.checker.check_model(onnx.load(f"{tmp}/{name}_ours.onnx"))
            run_tool("convert_onnx.py", f"{tmp}/{name}_ours.onnx", f"{tmp}/{name}_back.safetensors")
            meta_before, before = read_safetensors(original)
            meta_after, after = read_safetensors(f"{tmp}/{name}_back.safetensors")
            for tensor, array in before.items():
                assert tensor in after, f"{name}: {tensor} missing after the round trip"
                assert np.array_equal(array, after[tensor]) and \
                    array.dtype == after[tensor].dtype, tensor
            with alexnet.Network.load(original) as a, \
                    alexnet.Network.load(f"{tmp}/{name}_back.safetensors") as b:
                assert a.config == b.config, (name, a.config, b.config)
                assert a.preprocessing == b.preprocessing, (name, a.preprocessing)
                assert a.class_names == b.class_names, name
            print(f"{name}: export then import is bit-exact ({len(before)} tensors), with the "
                  "same configuration, preprocessing and class names")

        # 6. the paper's ablation switches
        ablated = f"{tmp}/ablated.safetensors"
        with alexnet.Network("paper", height=99, width=99, num_classes=10, seed=3,
                             activation="tanh", lrn=False, pool_size=2) as net:
            net.save(ablated)
        run_tool("export_onnx.py", ablated, f"{tmp}/ablated.onnx")
        graph = onnx.load(f"{tmp}/ablated.onnx").graph
        onnx.checker.check_model(onnx.load(f"{tmp}/ablated.onnx"))
        ops = [node.op_type for node in graph.node]
        assert ops.count("Tanh") == 7 and "Relu" not in ops and "LRN" not in ops, ops
        pools = [node for node in graph.node if node.op_type == "MaxPool"]
        assert len(pools) == 3 and all(
            list(attribute.ints) == [2, 2] for node in pools for attribute in node.attribute
            if attribute.name in ("kernel_shape", "strides")), pools
        back = f"{tmp}/ablated_back.safetensors"
        output = run_tool("convert_onnx.py", f"{tmp}/ablated.onnx", back)
        assert "99x99 input, tanh, no LRN, 2x2 pooling" in output, output
        _, before = read_safetensors(ablated)
        _, after = read_safetensors(back)
        assert before.keys() == after.keys(), (before.keys(), after.keys())
        assert all(np.array_equal(before[name], after[name]) for name in before)
        images = np.random.default_rng(5).standard_normal((2, 3, 99, 99)).astype(np.float32)
        with alexnet.Network.load(ablated) as a, \
                alexnet.Network.load(back) as b:
            assert a.config == b.config, (a.config, b.config)
            assert (b.config["activation"], b.config["lrn"], b.config["pool_size"]) == \
                ("tanh", False, 2), b.config
            logits = a.forward(images)
            assert np.array_equal(logits, b.forward(images)), "logits differ after the round trip"
        print("ablation switches export as Tanh, no LRN and 2x2 MaxPool, and convert back to the "
              "same network")

        # ... but a graph that mixes them is not one libalexnet network
        mixed = onnx.load(f"{tmp}/ablated.onnx")
        next(node for node in mixed.graph.node if node.name == "tanh3").op_type = "Relu"
        assert_refused(mixed, "node 'tanh3' (Relu) has relu, where node 'tanh1' (Tanh) has tanh")
        mixed = onnx.load(f"{tmp}/ablated.onnx")
        pool2 = next(node for node in mixed.graph.node if node.name == "pool2")
        next(a for a in pool2.attribute if a.name == "kernel_shape").ints[:] = [3, 3]
        assert_refused(mixed, "node 'pool2' (MaxPool) has 3x3 windows, where node 'pool1' "
                              "(MaxPool) has 2x2 windows")
        one_lrn = paper_graph(paper)
        nodes = list(one_lrn.graph.node)
        norm2 = next(node for node in nodes if node.name == "conv2_norm")
        following = next(node for node in nodes if list(node.input[:1]) == ["conv2_norm"])
        following.input[0] = norm2.input[0]
        one_lrn.graph.node.remove(norm2)
        assert_refused(one_lrn, "conv2 has no LRN, where conv1 has an LRN")
        print("graphs that mix activations, LRN settings or pooling windows are refused")


if __name__ == "__main__":
    main()
