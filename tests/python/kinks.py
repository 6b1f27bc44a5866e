"""Keeping parity tests away from the points where a gradient is not defined.

Two float32 implementations of the same network agree to rounding noise, not to the bit. Where a
function has a kink — ReLU at 0, a max-pooling window whose two largest values tie — that noise can
send the gradient down a different path in each, and the two gradients then differ by far more than
rounding: both are right, the derivative just does not exist there. A finite-difference test stays
away from such points, and a parity test must too, without loosening its tolerance where the
network is smooth.

`move_away_from_kinks(model, x)` changes the torch model's weights slightly until input x lies
clear of every kink; the caller then copies the weights into libalexnet, so both compare on the
same, clean point:

  1. ReLU kinks are moved out of reach. Every Conv2d or Linear that feeds a ReLU gets a small
     per-channel shift of its bias (at most 5% of the channel's spread), chosen so that no
     pre-activation of that channel lies near zero: the shift puts zero in the middle of the widest
     gap between the channel's values. Layers are done in network order in one float64 pass, so
     each shift sees the effect of the ones before it.
  2. The rounding noise is measured, not guessed: the float32 model runs beside its exact float64
     twin, and at every ReLU input and max-pooling input the largest absolute difference is that
     site's noise (another float32 implementation differs from float64 by the same order).
  3. Every ReLU input must lie at least SAFETY times its site's noise from zero, and the two largest
     values of every max-pooling window at least SAFETY times apart (a window of zeros is harmless:
     the ReLU before it zeroes every candidate's gradient; a tanh network's windows always count). A bias cannot separate
     a pooling tie, and the big networks have too many windows for a fresh random input to be
     clean, so the weights of each channel that still has a near-tie (or a ReLU input too close to
     0) are scaled by 1 + N(0, 1e-3) each, which re-draws that channel's values while leaving the
     rest of the network as it was; then back to 1. Layers below are untouched, so this converges
     in a few rounds.

Adaptive average pooling (a fixed linear map), LRN and softmax are smooth, and dropout is off in the
parity tests, so these are the only kinks.
"""
import copy

import torch
from torch import nn

# How many times the measured rounding noise a kink must be away. A site's noise is the largest
# difference over all its elements, several times the typical one; our library's rounding is of the
# same order as torch's (the same float32 sums in another order). Two implementations then fall on
# different sides of a kink only when their errors differ by 5x the largest error torch makes
# there: a many-sigma event.
SAFETY = 5.0
# Never trust a measured noise below this fraction of the site's largest value: our library sums in
# another order than torch, so its noise can exceed torch's at a site where torch happens to be
# nearly exact.
NOISE_FLOOR = 2e-7
# The largest bias shift, as a fraction of the channel's standard deviation.
SHIFT_LIMIT = 0.05
# The relative size of the weight nudge that re-draws a channel with a near-tie.
NUDGE = 1e-3


def _leaves(model):
    return [(name, m) for name, m in model.named_modules() if not list(m.children())]


def kink_sites(model):
    """{name of each ReLU and MaxPool2d: the Conv2d or Linear whose output reaches it}, and the
    list of Conv2d/Linear modules whose output goes straight (through Dropout or Flatten at most)
    into a ReLU, in network order."""
    sites, relu_fed, feeder, direct = {}, [], None, False
    for name, m in _leaves(model):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            feeder, direct = m, True
        elif isinstance(m, (nn.ReLU, nn.MaxPool2d)):
            sites[name] = feeder
            if isinstance(m, nn.ReLU) and direct:
                relu_fed.append(feeder)
            direct = False
        elif not isinstance(m, (nn.Dropout, nn.Flatten)):
            direct = False
    return sites, relu_fed


def _channels_first(t):
    """[C, everything else] view of an [N, C, ...] tensor."""
    return t.transpose(0, 1).reshape(t.shape[1], -1)


def _centering_shift(values, limit):
    """Per channel (rows of `values`), the shift in [-limit, limit] that maximises the smallest
    |value + shift|: zero goes to the middle of the widest gap between the channel's values (the
    window's ends count as values, so the shift never leaves it)."""
    lo, hi = -limit[:, None], limit[:, None]
    inside = torch.minimum(torch.maximum(-values, lo), hi)  # the places where zero could go
    points = torch.sort(torch.cat([lo, inside, hi], dim=1), dim=1).values
    gaps = points[:, 1:] - points[:, :-1]
    best = gaps.argmax(dim=1, keepdim=True)
    return ((points.gather(1, best) + points.gather(1, best + 1)) / 2).squeeze(1)


def _center_biases(model, model64, x64):
    """Step 1, in one float64 pass; the float32 model gets the same (float32-rounded) biases."""
    twin = {m64: m32 for m64, m32 in zip(model64.modules(), model.modules())}

    def hook(module, inputs, output):
        values = _channels_first(output)
        limit = SHIFT_LIMIT * values.std(dim=1, unbiased=False).clamp_min(1e-12)
        shift = _centering_shift(values, limit)
        with torch.no_grad():
            bias32 = twin[module].bias
            new32 = (bias32.double() + shift).float()
            applied = new32.double() - module.bias  # what float32 rounding made of the shift
            bias32.copy_(new32)
            module.bias.copy_(new32.double())
        return output + applied.view([1, -1] + [1] * (output.dim() - 2))

    hooks = [m.register_forward_hook(hook) for m in kink_sites(model64)[1]]
    with torch.no_grad():
        model64(x64)
    for h in hooks:
        h.remove()


def _record(model, x):
    """{site name: its input}, for every ReLU and MaxPool2d, in one forward."""
    seen = {}
    # A pre-hook, and a copy: torchvision's ReLUs work in place.
    hooks = [m.register_forward_pre_hook(
        lambda mod, i, name=name: seen.__setitem__(name, i[0].detach().clone()))
        for name, m in model.named_modules() if isinstance(m, (nn.ReLU, nn.MaxPool2d))]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def _margins(module, a):
    """Per element of the site's output: how far it is from its kink, with its channel."""
    if isinstance(module, nn.ReLU):
        return a.abs(), torch.arange(a.shape[1]).view([1, -1] + [1] * (a.dim() - 2)).expand_as(a)
    k, s = module.kernel_size, module.stride
    if module.ceil_mode:  # the last windows hang over the border: pad them with -inf
        extra = [(-(-(n - k) // s)) * s + k - n for n in (a.shape[3], a.shape[2])]
        a = nn.functional.pad(a, (0, extra[0], 0, extra[1]), value=-torch.inf)
    windows = a.unfold(2, k, s).unfold(3, k, s)
    top2 = windows.reshape(*windows.shape[:4], -1).topk(2, dim=-1).values
    # A window of zeros comes from a ReLU that zeroes every candidate's gradient; any other window
    # (a tanh network's pools see negative values too) must have a clear winner.
    gaps = torch.where(top2[..., 0] != 0, top2[..., 0] - top2[..., 1], torch.inf)
    return gaps, torch.arange(a.shape[1]).view(1, -1, 1, 1).expand_as(gaps)


def move_away_from_kinks(model, x, generator, rounds=30):
    """Adjusts `model` (float32, in place) as described above until input `x` (a float32 tensor)
    lies clear of every kink. Returns (rounds used, smallest margin / noise met)."""
    sites = kink_sites(model)[0]
    for used in range(1, rounds + 1):
        model64 = copy.deepcopy(model).double()
        _center_biases(model, model64, x.double())
        exact, rounded = _record(model64, x.double()), _record(model, x)
        modules, worst, nudged = dict(model.named_modules()), float("inf"), False
        for name, a in exact.items():
            noise = max((rounded[name].double() - a).abs().max().item(),
                        NOISE_FLOOR * a.abs().max().item())
            margin, channel = _margins(modules[name], a)
            worst = min(worst, margin.min().item() / noise)
            close = channel[margin < SAFETY * noise].unique()
            if close.numel():
                with torch.no_grad():
                    weight = sites[name].weight
                    weight[close] *= 1 + NUDGE * torch.randn(weight[close].shape,
                                                             generator=generator)
                nudged = True
        if not nudged:
            return used, worst
    raise RuntimeError(f"inputs still within {SAFETY}x the rounding noise of a kink after "
                       f"{rounds} rounds (nearest {worst:.1f}x)")
