"""AlexNet-shaped ONNX graphs written node by node with onnx.helper, from a PyTorch reference model:
the paper's structure, and with other arguments the ONNX model zoo's bvlc_alexnet."""
from onnx import TensorProto, helper, numpy_helper

from torch_reference import canonical_modules


def paper_graph(model, side=227, lrn_alpha=5e-4, lrn_bias=2.0, pool1=None, lrn2=None):
    """A PAPER-shaped reference model as an ONNX graph written node by node with onnx.helper;
    pool1 gives conv1's MaxPool other attributes (Caffe's rounding), lrn2 conv2's LRN others."""
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
                lrn = dict(size=5, alpha=lrn_alpha, beta=0.75, bias=lrn_bias)
                add("LRN", [], f"{name}_norm", **(lrn2 if lrn2 and name == "conv2" else lrn))
            if name in ("conv1", "conv2", "conv5"):
                add("MaxPool", [], f"{name}_pool", kernel_shape=[3, 3], strides=[2, 2],
                    **(pool1 if pool1 and name == "conv1" else {}))
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
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 1000])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
