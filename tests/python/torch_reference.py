"""The three libalexnet architectures built in PyTorch, for parity tests and the benchmark.

PAPER uses Conv2d(groups=2) for the paper's two-GPU column split and LocalResponseNorm with the
paper's constants in PyTorch's convention; TORCHVISION is torchvision.models.alexnet; MINI mirrors
the table in lib/arch.c (docs/architectures.md).
"""
import os
import sys

import torch
import torchvision
from torch import nn

PAPER, TORCHVISION, MINI = 0, 1, 2
ARCH_NAMES = {"paper": PAPER, "torchvision": TORCHVISION, "mini": MINI}

# (out channels, kernel, stride, pad, groups, LRN after, max pool after) per conv stage.
CONV_SPECS = {
    PAPER: [(96, 11, 4, 0, 1, True, True), (256, 5, 1, 2, 2, True, True),
            (384, 3, 1, 1, 1, False, False), (384, 3, 1, 1, 2, False, False),
            (256, 3, 1, 1, 2, False, True)],
    MINI: [(32, 3, 1, 1, 1, True, True), (64, 3, 1, 1, 1, True, True),
           (96, 3, 1, 1, 1, False, False), (96, 3, 1, 1, 1, False, False),
           (64, 3, 1, 1, 1, False, True)],
}
HIDDEN = {PAPER: 4096, MINI: 512}


# The config fields (alexnet.Network keywords) of Caffe's bvlc_alexnet, as the ONNX model zoo has
# it: PAPER at 224 x 224 with Caffe's ceil rounding of pooled sizes and Caffe's LRN constants.
CAFFE = {"pool_ceil": 1, "lrn_alpha": 1e-4, "lrn_k": 1.0}


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def conv_stack(channels, specs, pool_ceil=0, lrn_size=5, lrn_alpha=5e-4, lrn_beta=0.75,
               lrn_k=2.0, activation="relu", lrn=True, pool_size=3):
    layers = []
    for out, kernel, stride, pad, groups, has_lrn, pool in specs:
        layers += [nn.Conv2d(channels, out, kernel, stride, pad, groups=groups),
                   ACTIVATIONS[activation]()]
        if has_lrn and lrn:
            layers.append(nn.LocalResponseNorm(lrn_size, alpha=lrn_alpha, beta=lrn_beta, k=lrn_k))
        if pool:
            layers.append(nn.MaxPool2d(pool_size, 2, ceil_mode=bool(pool_ceil)))
        channels = out
    return layers


def classifier(features, hidden, classes, activation="relu"):
    return [nn.Flatten(), nn.Dropout(), nn.Linear(features, hidden), ACTIVATIONS[activation](),
            nn.Dropout(), nn.Linear(hidden, hidden), ACTIVATIONS[activation](),
            nn.Linear(hidden, classes)]


def torch_model(arch, channels, side, classes, **config):
    """The architecture in PyTorch; `config` takes the alexnet.Network keywords of CAFFE and the
    paper's switches (activation, lrn, pool_size)."""
    if arch == TORCHVISION:
        model = torchvision.models.alexnet(num_classes=classes)
        assert channels == 3 and not config
        return model
    specs, hidden = CONV_SPECS[arch], HIDDEN[arch]
    features = nn.Sequential(*conv_stack(channels, specs, **config))
    with torch.no_grad():
        flat = features(torch.zeros(1, channels, side, side)).numel()
    return nn.Sequential(*features,
                         *classifier(flat, hidden, classes, config.get("activation", "relu")))


def canonical_modules(model):
    """(canonical layer name, module) for the 5 convolutions and 3 linear layers, in order."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return [(f"conv{i + 1}", m) for i, m in enumerate(convs)] + \
           [(f"fc{i + 6}", m) for i, m in enumerate(linears)]


def load_package(library):
    """The `alexnet` package from the source tree, bound to the library under test."""
    os.environ["ALEXNET_LIBRARY"] = library
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bindings", "python"))
    import alexnet
    return alexnet


def assert_same_logits(net, model, side, what):
    """libalexnet's `net` and torch's `model` give the same logits (relative error <= 1e-4) for
    two random RGB images of side x side."""
    import numpy as np
    x = np.random.default_rng(5).standard_normal((2, 3, side, side), dtype=np.float32)
    ours = net.forward(x)
    with torch.no_grad():
        theirs = model.eval()(torch.from_numpy(x)).numpy()
    error = np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))
    assert error <= 1e-4, f"{what}: logits differ from torch's by {error:.1e}"
    print(f"{what}: logits match torch ({error:.1e})")
