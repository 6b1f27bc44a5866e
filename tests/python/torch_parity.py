"""Parity with PyTorch: the same weights and input give the same logits (relative error <= 1e-4)
and, after backward on the same labels, the same gradient for every parameter (<= 1e-3); five
steps of torch.optim.SGD and of alexnet_train_step give the same parameters (<= 1e-4).

The torch networks come from torch_reference.py. Weights start from torch's own initialisation
and are copied into libalexnet through alexnet_network_param.

Usage: torch_parity.py path/to/libalexnet.so
"""
import ctypes
import sys

import numpy as np
import torch
from torch import nn

from torch_reference import MINI, PAPER, TORCHVISION, canonical_modules, torch_model

LOGIT_TOLERANCE = 1e-4
GRAD_TOLERANCE = 1e-3


class Config(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("arch", ctypes.c_int),
                ("in_channels", ctypes.c_int), ("in_height", ctypes.c_int),
                ("in_width", ctypes.c_int), ("num_classes", ctypes.c_int),
                ("dropout", ctypes.c_float), ("init", ctypes.c_int)]


class SgdConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("learning_rate", ctypes.c_float),
                ("momentum", ctypes.c_float), ("weight_decay", ctypes.c_float)]


lib = ctypes.CDLL(sys.argv[1])
lib.alexnet_last_error.restype = ctypes.c_char_p
lib.alexnet_tensor_data.restype = ctypes.POINTER(ctypes.c_float)
lib.alexnet_tensor_numel.restype = ctypes.c_int64
lib.alexnet_network_param_name.restype = ctypes.c_char_p


def check(status):
    if status != 0:
        raise RuntimeError(lib.alexnet_last_error().decode())


def view(tensor, shape):
    """A numpy view of a libalexnet tensor's storage."""
    return np.ctypeslib.as_array(lib.alexnet_tensor_data(tensor), shape=shape)


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

    cfg = Config()
    check(lib.alexnet_config_init(ctypes.byref(cfg), arch))
    cfg.in_channels, cfg.in_height, cfg.in_width = channels, config_side, config_side
    cfg.num_classes, cfg.dropout = classes, 0.0
    net = ctypes.c_void_p()
    check(lib.alexnet_network_create(ctypes.byref(net), ctypes.byref(cfg), ctypes.c_uint64(1)))

    grads = {}
    for layer, module in canonical_modules(model):
        for kind in ("weight", "bias"):
            value, grad = ctypes.c_void_p(), ctypes.c_void_p()
            check(lib.alexnet_network_param(net, f"{layer}.{kind}".encode(),
                                            ctypes.byref(value), ctypes.byref(grad)))
            source = getattr(module, kind).detach().numpy()
            view(value, source.shape)[...] = source
            grads[f"{layer}.{kind}"] = (view(grad, source.shape), getattr(module, kind))

    rng = np.random.default_rng(7)
    for draw in range(1, 51):
        x = rng.standard_normal((batch, channels, input_side, input_side), dtype=np.float32)
        gap = smallest_pooling_gap(model, torch.from_numpy(x))
        if gap > 1e-6:
            break
    else:
        raise RuntimeError(f"{name}: no input without near-ties in max pooling in {draw} draws")
    labels = rng.integers(0, classes, batch).astype(np.int32)
    shape_x = (ctypes.c_int64 * 4)(*x.shape)
    shape_y = (ctypes.c_int64 * 2)(batch, classes)
    tx, ty = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.alexnet_tensor_wrap(ctypes.byref(tx), 4, shape_x,
                                  x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))))
    check(lib.alexnet_tensor_create(ctypes.byref(ty), 2, shape_y))

    check(lib.alexnet_network_forward(net, tx, ty, 0))
    ours = view(ty, (batch, classes)).copy()
    xt = torch.from_numpy(x)
    theirs = model(xt)
    logit_error = relative_error(ours, theirs.detach().numpy())

    check(lib.alexnet_network_forward(net, tx, ty, 1))
    loss = ctypes.c_float()
    check(lib.alexnet_network_backward(
        net, labels.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), ctypes.byref(loss)))
    torch_loss = nn.functional.cross_entropy(theirs, torch.from_numpy(labels).long())
    model.zero_grad()
    torch_loss.backward()

    failures = []
    if logit_error > LOGIT_TOLERANCE:
        failures.append(f"logits relative error {logit_error:.2e}")
    if abs(loss.value - torch_loss.item()) > 1e-4 * max(1.0, abs(torch_loss.item())):
        failures.append(f"loss {loss.value} vs torch {torch_loss.item()}")
    worst = 0.0
    for pname, (ours_grad, torch_param) in grads.items():
        error = relative_error(ours_grad, torch_param.grad.numpy())
        worst = max(worst, error)
        if error > GRAD_TOLERANCE:
            failures.append(f"{pname} gradient relative error {error:.2e}")
    print(f"{name}: logits {logit_error:.1e}, loss {loss.value:.6f} vs {torch_loss.item():.6f}, "
          f"worst gradient {worst:.1e} (input draw {draw}, smallest pooling gap {gap:.1e})")

    lib.alexnet_tensor_free(tx)
    lib.alexnet_tensor_free(ty)
    lib.alexnet_network_free(net)
    return [f"{name}: {f}" for f in failures]


def run_sgd_case(name, arch, channels, side, classes, batch, steps=5):
    """steps of torch.optim.SGD(lr, momentum=0.9, weight_decay=5e-4) against alexnet_train_step,
    same weights and batches, dropout off: every parameter within 1e-4 relative, and the total
    change of every parameter within 1e-3 relative."""
    lr = 0.01
    torch.manual_seed(1)
    model = torch_model(arch, channels, side, classes).eval()
    cfg = Config()
    check(lib.alexnet_config_init(ctypes.byref(cfg), arch))
    cfg.in_channels, cfg.in_height, cfg.in_width = channels, side, side
    cfg.num_classes, cfg.dropout = classes, 0.0
    net = ctypes.c_void_p()
    check(lib.alexnet_network_create(ctypes.byref(net), ctypes.byref(cfg), ctypes.c_uint64(1)))
    ours, initial = {}, {}
    for layer, module in canonical_modules(model):
        for kind in ("weight", "bias"):
            value = ctypes.c_void_p()
            check(lib.alexnet_network_param(net, f"{layer}.{kind}".encode(), ctypes.byref(value),
                                            None))
            source = getattr(module, kind)
            ours[f"{layer}.{kind}"] = (view(value, source.shape), source)
            view(value, source.shape)[...] = source.detach().numpy()
            initial[f"{layer}.{kind}"] = source.detach().numpy().copy()

    sgd = SgdConfig()
    check(lib.alexnet_sgd_config_init(ctypes.byref(sgd)))
    sgd.learning_rate = lr
    opt = ctypes.c_void_p()
    check(lib.alexnet_optimizer_create(ctypes.byref(opt), net, ctypes.byref(sgd)))
    torch_opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)

    rng = np.random.default_rng(11)
    for _ in range(steps):
        x = rng.standard_normal((batch, channels, side, side), dtype=np.float32)
        labels = rng.integers(0, classes, batch).astype(np.int32)
        tx = ctypes.c_void_p()
        check(lib.alexnet_tensor_wrap(ctypes.byref(tx), 4, (ctypes.c_int64 * 4)(*x.shape),
                                      x.ctypes.data_as(ctypes.POINTER(ctypes.c_float))))
        check(lib.alexnet_train_step(net, opt, tx, labels.ctypes.data_as(
            ctypes.POINTER(ctypes.c_int32)), None))
        lib.alexnet_tensor_free(tx)
        torch_opt.zero_grad()
        nn.functional.cross_entropy(model(torch.from_numpy(x)),
                                    torch.from_numpy(labels).long()).backward()
        torch_opt.step()

    failures, worst_value, worst_update = [], 0.0, 0.0
    for pname, (ours_value, torch_param) in ours.items():
        theirs = torch_param.detach().numpy()
        value_error = relative_error(ours_value, theirs)
        update_error = relative_error(ours_value - initial[pname], theirs - initial[pname])
        worst_value, worst_update = max(worst_value, value_error), max(worst_update, update_error)
        if value_error > 1e-4 or update_error > 1e-3:
            failures.append(f"{name}: {pname} value error {value_error:.1e}, "
                            f"update error {update_error:.1e}")
    print(f"{name}: after {steps} SGD steps, worst parameter error {worst_value:.1e}, "
          f"worst update error {worst_update:.1e}")
    lib.alexnet_optimizer_free(opt)
    lib.alexnet_network_free(net)
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
