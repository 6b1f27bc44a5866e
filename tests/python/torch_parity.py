"""Parity with PyTorch: the same weights and input give the same logits (relative error <= 1e-4)
and, after backward on the same labels, the same gradient for every parameter (<= 1e-3); five
steps of torch.optim.SGD and of alexnet_train_step give the same parameters (<= 1e-4).

The torch networks come from torch_reference.py. Weights start from torch's own initialisation
and are copied into libalexnet through alexnet_network_param (the `alexnet` package's views).

Usage: torch_parity.py path/to/libalexnet.so
"""
import sys

import numpy as np
import torch
from torch import nn

from torch_reference import (MINI, PAPER, TORCHVISION, canonical_modules, load_package,
                             torch_model)

LOGIT_TOLERANCE = 1e-4
GRAD_TOLERANCE = 1e-3


alexnet = load_package(sys.argv[1])
ARCH_KEYS = {PAPER: "paper", TORCHVISION: "torchvision", MINI: "mini"}


def smallest_pooling_gap(model, x):
    """The smallest relative gap between the largest and second-largest value of any max-pooling
    window whose maximum is positive. Two implementations round differently in the last bits, so
    a window whose top two values are a few ulps apart may pick different winners, and the gradient
    goes to a different element: a point where the gradient is not defined. Like a finite-difference
    test, the comparison is made away from such points. (All-zero windows after a ReLU are harmless:
    every candidate's gradient is zeroed by that ReLU.)"""
    inputs = []
    hooks = [m.register_forward_hook(lambda m, i, o: inputs.append(i[0].detach()))
             for m in model.modules() if isinstance(m, nn.MaxPool2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    smallest = 1.0
    for a in inputs:
        windows = a.unfold(2, 3, 2).unfold(3, 3, 2).reshape(*a.shape[:2], -1, 9)
        top2 = windows.topk(2, dim=-1).values
        positive = top2[..., 0] > 0
        if positive.any():
            gap = ((top2[..., 0] - top2[..., 1]) / top2[..., 0])[positive]
            smallest = min(smallest, gap.min().item())
    return smallest


def relative_error(ours, theirs):
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-30))


def run_case(name, arch, channels, config_side, input_side, classes, batch):
    torch.manual_seed(0)
    model = torch_model(arch, channels, config_side, classes).eval()
    net = alexnet.Network(ARCH_KEYS[arch], in_channels=channels, height=config_side,
                          width=config_side, num_classes=classes, dropout=0.0, seed=1)
    for layer, module in canonical_modules(model):
        for kind in ("weight", "bias"):
            net.param(f"{layer}.{kind}")[...] = getattr(module, kind).detach().numpy()

    rng = np.random.default_rng(7)
    for draw in range(1, 51):
        x = rng.standard_normal((batch, channels, input_side, input_side), dtype=np.float32)
        gap = smallest_pooling_gap(model, torch.from_numpy(x))
        if gap > 1e-6:
            break
    else:
        raise RuntimeError(f"{name}: no input without near-ties in max pooling in {draw} draws")
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
    worst = 0.0
    for layer, module in canonical_modules(model):
        for kind in ("weight", "bias"):
            error = relative_error(net.grad(f"{layer}.{kind}"), getattr(module, kind).grad.numpy())
            worst = max(worst, error)
            if error > GRAD_TOLERANCE:
                failures.append(f"{layer}.{kind} gradient relative error {error:.2e}")
    print(f"{name}: logits {logit_error:.1e}, loss {loss:.6f} vs {torch_loss.item():.6f}, "
          f"worst gradient {worst:.1e} (input draw {draw}, smallest pooling gap {gap:.1e})")
    net.close()
    return [f"{name}: {f}" for f in failures]


def run_sgd_case(name, arch, channels, side, classes, batch, steps=5):
    """steps of torch.optim.SGD(lr, momentum=0.9, weight_decay=5e-4) against alexnet_train_step,
    same weights and batches, dropout off: every parameter within 1e-4 relative, and the total
    change of every parameter within 1e-3 relative."""
    lr = 0.01
    torch.manual_seed(1)
    model = torch_model(arch, channels, side, classes).eval()
    net = alexnet.Network(ARCH_KEYS[arch], in_channels=channels, height=side, width=side,
                          num_classes=classes, dropout=0.0, seed=1)
    params, initial = {}, {}
    for layer, module in canonical_modules(model):
        for kind in ("weight", "bias"):
            pname, source = f"{layer}.{kind}", getattr(module, kind)
            params[pname] = (net.param(pname), source)
            params[pname][0][...] = source.detach().numpy()
            initial[pname] = source.detach().numpy().copy()
    opt = alexnet.SGD(net, lr=lr, momentum=0.9, weight_decay=5e-4)
    torch_opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)

    rng = np.random.default_rng(11)
    for _ in range(steps):
        x = rng.standard_normal((batch, channels, side, side), dtype=np.float32)
        labels = rng.integers(0, classes, batch).astype(np.int32)
        opt.train_step(x, labels)
        torch_opt.zero_grad()
        nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                    torch.from_numpy(labels).long()).backward()
        torch_opt.step()

    failures, worst_value, worst_update = [], 0.0, 0.0
    for pname, (ours_value, torch_param) in params.items():
        theirs = torch_param.detach().numpy()
        value_error = relative_error(ours_value, theirs)
        update_error = relative_error(ours_value - initial[pname], theirs - initial[pname])
        worst_value, worst_update = max(worst_value, value_error), max(worst_update, update_error)
        if value_error > 1e-4 or update_error > 1e-3:
            failures.append(f"{name}: {pname} value error {value_error:.1e}, "
                            f"update error {update_error:.1e}")
    print(f"{name}: after {steps} SGD steps, worst parameter error {worst_value:.1e}, "
          f"worst update error {worst_update:.1e}")
    opt.close()
    net.close()
    return failures


def main():
    torch.set_num_threads(2)
    cases = [
        ("PAPER 227x227, batch 2", PAPER, 3, 227, 227, 1000, 2),
        ("TORCHVISION 224x224, batch 2", TORCHVISION, 3, 224, 224, 1000, 2),
        ("TORCHVISION built for 224, fed 256x256, batch 3", TORCHVISION, 3, 224, 256, 1000, 3),
        ("TORCHVISION 97x97 (adaptive pooling upsamples), batch 2", TORCHVISION, 3, 97, 97, 10, 2),
        ("MINI 28x28x1, batch 5", MINI, 1, 28, 28, 10, 5),
        ("MINI 64x64x3, batch 2", MINI, 3, 64, 64, 7, 2),
    ]
    failures = []
    for case in cases:
        failures += run_case(*case)
    failures += run_sgd_case("MINI 28x28x1 SGD, batch 8", MINI, 1, 28, 10, 8)
    failures += run_sgd_case("TORCHVISION 96x96 SGD, batch 2", TORCHVISION, 3, 96, 10, 2)
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("all cases match PyTorch")


if __name__ == "__main__":
    main()
