"""Parity with PyTorch: the same weights and input give the same logits (relative error <= 1e-4)
and, after backward on the same labels, the same gradient for every parameter (<= 1e-3); steps of
torch.optim.SGD and of alexnet_train_step give the same parameters (<= 1e-4) and the same updates
(momentum buffers, <= 1e-3).

The torch networks come from torch_reference.py. Weights start from torch's own initialisation
and are copied into libalexnet through alexnet_network_param (the `alexnet` package's views).
Every comparison is made away from the points where the gradient is not defined (kinks.py): the
tolerances hold for any seed, thread count and OpenBLAS kernel.

Usage: torch_parity.py path/to/libalexnet.so [--seeds FIRST[-LAST]] [--case TEXT]
  --seeds  the seeds to run every case with (default 0); a sweep such as 0-19 is run by hand
  --case   only the cases whose name contains TEXT
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch
from torch import nn

from kinks import move_away_from_kinks
from safetensors_io import read_safetensors
from torch_reference import (CAFFE, MINI, PAPER, TORCHVISION, canonical_modules, load_package,
                             torch_model)

LOGIT_TOLERANCE = 1e-4
GRAD_TOLERANCE = 1e-3
VALUE_TOLERANCE = 1e-4
UPDATE_TOLERANCE = 1e-3

ARCH_KEYS = {PAPER: "paper", TORCHVISION: "torchvision", MINI: "mini"}
alexnet = None  # bound to the library under test in main()


def relative_error(ours, theirs):
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-30))


def worst_error(pairs, tolerance, failures, what):
    """The largest relative error over (name, ours, theirs); each one over `tolerance` is added to
    `failures`, described as `what` (a format with {name})."""
    worst = 0.0
    for name, ours, theirs in pairs:
        error = relative_error(ours, theirs)
        worst = max(worst, error)
        if error > tolerance:
            failures.append(f"{what.format(name=name)} relative error {error:.2e}")
    return worst


def parameters(model):
    """(canonical name, torch parameter) for every parameter, in network order."""
    return [(f"{layer}.{kind}", getattr(module, kind))
            for layer, module in canonical_modules(model) for kind in ("weight", "bias")]


def copy_weights(model, net):
    for name, param in parameters(model):
        net.param(name)[...] = param.detach().numpy()


def nudges(seed):
    return torch.Generator().manual_seed(seed)


def build(arch, channels, side, classes, seed, config=None):
    torch.manual_seed(seed)
    model = torch_model(arch, channels, side, classes, **(config or {})).eval()
    net = alexnet.Network(ARCH_KEYS[arch], in_channels=channels, height=side, width=side,
                          num_classes=classes, dropout=0.0, seed=1, **(config or {}))
    return model, net


def run_case(seed, name, arch, channels, config_side, input_side, classes, batch, config=None):
    model, net = build(arch, channels, config_side, classes, seed, config)
    rng = np.random.default_rng([seed, 7])
    x = rng.standard_normal((batch, channels, input_side, input_side), dtype=np.float32)
    rounds, margin = move_away_from_kinks(model, torch.from_numpy(x), nudges(seed))
    copy_weights(model, net)
    labels = rng.integers(0, classes, batch).astype(np.int32)

    ours = net.forward(x)
    theirs = model(torch.from_numpy(x))
    logit_error = relative_error(ours, theirs.detach().numpy())
    net.forward(x, training=True)
    loss = net.backward(labels)
    torch_loss = nn.functional.cross_entropy(theirs, torch.from_numpy(labels).long())
    model.zero_grad()
    torch_loss.backward()

    failures = []
    if logit_error > LOGIT_TOLERANCE:
        failures.append(f"logits relative error {logit_error:.2e}")
    if abs(loss - torch_loss.item()) > 1e-4 * max(1.0, abs(torch_loss.item())):
        failures.append(f"loss {loss} vs torch {torch_loss.item()}")
    worst = worst_error([(pname, net.grad(pname), param.grad.numpy())
                         for pname, param in parameters(model)], GRAD_TOLERANCE, failures,
                        "{name} gradient")
    print(f"seed {seed}, {name}: logits {logit_error:.1e}, loss {loss:.6f} vs "
          f"{torch_loss.item():.6f}, worst gradient {worst:.1e} (nearest kink {margin:.0f}x the "
          f"rounding noise after {rounds} rounds)")
    net.close()
    return [f"seed {seed}, {name}: {f}" for f in failures]


def run_sgd_case(seed, name, arch, channels, side, classes, batch, config=None, steps=5):
    """`steps` steps of torch.optim.SGD(lr, momentum=0.9, weight_decay=5e-4) against
    alexnet_train_step on the same batches, dropout off. Each step starts both from torch's
    weights (moved away from the step's kinks), while each keeps its own momentum. After every step
    each parameter agrees within 1e-4, and each step's update within 1e-3: ours is the momentum
    buffer v (w <- w + v), read from a checkpoint, and torch's is -lr times its momentum_buffer.
    Comparing the buffers checks the momentum and weight-decay rule over all the steps exactly; the
    difference of two float32 weights could not, since ulp(w) is a sizeable fraction of v."""
    lr = 0.01
    model, net = build(arch, channels, side, classes, seed + 1, config)
    opt = alexnet.SGD(net, lr=lr, momentum=0.9, weight_decay=5e-4)
    torch_opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)

    rng, generator = np.random.default_rng([seed, 11]), nudges(seed)
    failures, worst_value, worst_update, worst_margin = [], 0.0, 0.0, float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = os.path.join(tmp, "checkpoint.safetensors")
        for step in range(1, steps + 1):
            x = rng.standard_normal((batch, channels, side, side), dtype=np.float32)
            worst_margin = min(worst_margin, move_away_from_kinks(model, torch.from_numpy(x),
                                                                  generator)[1])
            copy_weights(model, net)
            labels = rng.integers(0, classes, batch).astype(np.int32)
            opt.train_step(x, labels)
            torch_opt.zero_grad()
            nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                        torch.from_numpy(labels).long()).backward()
            torch_opt.step()
            alexnet.save_checkpoint(net, opt, checkpoint)
            momentum = read_safetensors(checkpoint)[1]
            where = f"seed {seed}, {name}: step {step}, {{name}}"
            worst_value = max(worst_value, worst_error(
                [(pname, net.param(pname), param.detach().numpy())
                 for pname, param in parameters(model)], VALUE_TOLERANCE, failures,
                where + " value"))
            worst_update = max(worst_update, worst_error(
                [(pname, momentum[f"optimizer.{pname}.momentum"],
                  -lr * torch_opt.state[param]["momentum_buffer"].numpy())
                 for pname, param in parameters(model)], UPDATE_TOLERANCE, failures,
                where + " update"))
    print(f"seed {seed}, {name}: {steps} SGD steps, worst parameter error {worst_value:.1e}, "
          f"worst update error {worst_update:.1e} (nearest kink {worst_margin:.0f}x the rounding "
          f"noise)")
    opt.close()
    net.close()
    return failures


CASES = [
    ("PAPER 227x227, batch 2", PAPER, 3, 227, 227, 1000, 2),
    ("PAPER 224x224 as Caffe's bvlc_alexnet (ceil pooling, LRN alpha 1e-4, k 1), batch 2", PAPER,
     3, 224, 224, 1000, 2, CAFFE),
    ("MINI 30x30x1 with ceil pooling and LRN size 3, beta 0.6, batch 3", MINI, 1, 30, 30, 10, 3,
     {"pool_ceil": 1, "lrn_size": 3, "lrn_beta": 0.6, "lrn_alpha": 2e-3, "lrn_k": 1.5}),
    ("TORCHVISION 224x224, batch 2", TORCHVISION, 3, 224, 224, 1000, 2),
    ("TORCHVISION built for 224, fed 256x256, batch 3", TORCHVISION, 3, 224, 256, 1000, 3),
    ("TORCHVISION 97x97 (adaptive pooling upsamples), batch 2", TORCHVISION, 3, 97, 97, 10, 2),
    ("MINI 28x28x1, batch 5", MINI, 1, 28, 28, 10, 5),
    ("MINI 64x64x3, batch 2", MINI, 3, 64, 64, 7, 2),
    ("MINI 28x28x1 with tanh, no LRN and 2x2 pooling (the paper's ablations), batch 4", MINI, 1,
     28, 28, 10, 4, {"activation": "tanh", "lrn": False, "pool_size": 2}),
    ("PAPER 227x227 with 2x2 pooling and no LRN, batch 2", PAPER, 3, 227, 227, 1000, 2,
     {"lrn": False, "pool_size": 2}),
]
SGD_CASES = [
    ("MINI 28x28x1 SGD, batch 8", MINI, 1, 28, 10, 8),
    ("MINI 28x28x1 with tanh and 2x2 pooling, SGD, batch 8", MINI, 1, 28, 10, 8,
     {"activation": "tanh", "pool_size": 2}),
    ("TORCHVISION 96x96 SGD, batch 2", TORCHVISION, 3, 96, 10, 2),
]


def seed_range(text):
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main():
    global alexnet
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("library")
    parser.add_argument("--seeds", type=seed_range, default=range(0, 1))
    parser.add_argument("--case", default="")
    args = parser.parse_args()
    alexnet = load_package(args.library)
    torch.set_num_threads(2)

    failures = []
    for seed in args.seeds:
        for case in CASES:
            if args.case in case[0]:
                failures += run_case(seed, *case)
        for case in SGD_CASES:
            if args.case in case[0]:
                failures += run_sgd_case(seed, *case)
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("all cases match PyTorch")


if __name__ == "__main__":
    main()
