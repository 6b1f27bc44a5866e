"""Time to a test accuracy on Fashion-MNIST: the main job's trainer next to PyTorch training the
same MINI network with the same recipe, on the same machine and thread count, one after the other.

    /usr/bin/python3 bench/time_to_accuracy.py [--build build] [--target 0.91] [--epochs N]
                                               [--threads N] [--seed N] [--limit N]
                                               [--torch-only|--ours-only]

The recipe is the trainer's defaults (examples/train_fashion_mnist.c): He-normal weights and zero
biases, SGD with momentum 0.9 and weight decay 5e-4 (the paper's rule), batch 64, the learning
rate rising linearly to 0.05 over 200 steps and then following a cosine to zero over the run, images normalised
with Fashion-MNIST's mean and std, mirrored at random (no crops: the trainer's --pad 0) except in
the last epoch. Both evaluate on the 10,000 test images after every epoch;
the time to the target is the wall time from the start of training to the end of the first
evaluation that reaches it, evaluations included. Prints a table and the ratio (PyTorch's time over
ours: above 1, libalexnet is faster)."""
import argparse
import gzip
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def torch_run(epochs, threads, seed, target, limit=0):
    """Trains MINI in PyTorch; returns [(epoch, seconds since start, accuracy)]."""
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
    from torch_reference import MINI, torch_model

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_x = (read_idx(f"{DATA}/train-images-idx3-ubyte.gz").astype(np.float32) / 255 - MEAN) / STD
    train_y = read_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64)
    if limit:
        train_x, train_y = train_x[:limit], train_y[:limit]
    test_x = (read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255 - MEAN) / STD
    test_y = torch.from_numpy(read_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    test_x = torch.from_numpy(test_x[:, None])

    model = torch_model(MINI, 1, 28, 10)
    for m in model.modules():  # the trainer's init: He-normal weights, zero biases, no dropout
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    lr, batch, warmup = 0.05, 64, 200
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    batches = len(train_x) // batch
    history, step, start = [], 0, time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(train_x))
        augment = epoch < epochs - 1
        for b in range(batches):
            index = order[b * batch:(b + 1) * batch]
            images = train_x[index]
            if augment:  # train_x[index] is a copy
                flip = rng.random(len(index)) < 0.5
                images[flip] = images[flip, :, ::-1]
            rate = lr * 0.5 * (1 + math.cos(math.pi * step / (batches * epochs)))
            if step < warmup:
                rate *= (step + 1) / warmup
            for group in optimizer.param_groups:
                group["lr"] = rate
            x = torch.from_numpy(np.ascontiguousarray(images[:, None]))
            loss = torch.nn.functional.cross_entropy(model(x), torch.from_numpy(train_y[index]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum())
                          for i in range(0, len(test_x), 500))
        history.append((epoch + 1, time.perf_counter() - start, correct / len(test_x)))
        print(f"  PyTorch epoch {epoch + 1}: {100 * history[-1][2]:.2f}% at "
              f"{history[-1][1]:.0f} s", file=sys.stderr)
        if history[-1][2] >= target:
            break
    return history


def read_lines(stream, copy):
    """(arrival time, line) for each line of `stream`, also written to `copy`."""
    for line in stream:
        copy.write(line)
        yield time.perf_counter(), line


def ours_run(build, epochs, threads, seed, limit=0):
    """Runs the main job's trainer; returns [(epoch, seconds since start, accuracy)]."""
    trainer = os.path.join(build, "examples", "train_fashion_mnist")
    out = os.path.join(build, "time-to-accuracy-run")
    start = time.perf_counter()
    process = subprocess.Popen([trainer, "--out", out, "--epochs", str(epochs), "--threads",
                                str(threads), "--seed", str(seed)] +
                               (["--limit", str(limit)] if limit else []), stdout=subprocess.PIPE,
                               text=True)
    history = []
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "output.txt"), "w") as copy:
        lines = list(read_lines(process.stdout, copy))
    for when, line in lines:
        match = re.match(r"epoch (\d+)/\d+: .* test accuracy ([\d.]+)%", line)
        if match:  # the line is printed right after the evaluation
            history.append((int(match.group(1)), when - start, float(match.group(2)) / 100))
            print(f"  libalexnet epoch {history[-1][0]}: {100 * history[-1][2]:.2f}% at "
                  f"{history[-1][1]:.0f} s", file=sys.stderr)
    if process.wait() != 0:
        sys.exit(f"{trainer} failed")
    return history


def time_to(history, target):
    return next(((e, t) for e, t, a in history if a >= target), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--target", type=float, default=0.91)
    parser.add_argument("--epochs", type=int, default=6,
                        help="the trainer's default run length (the cosine's span)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0,
                        help="train on the first N images only (a smoke test)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--torch-only", action="store_true")
    group.add_argument("--ours-only", action="store_true")
    args = parser.parse_args()
    rows = []
    if not args.torch_only:
        rows.append(("libalexnet", ours_run(args.build, args.epochs, args.threads, args.seed,
                                                   args.limit)))
    if not args.ours_only:
        rows.append(("PyTorch", torch_run(args.epochs, args.threads, args.seed, args.target,
                                            args.limit)))
    print(f"Fashion-MNIST, MINI, {args.epochs}-epoch cosine recipe, {args.threads} threads; "
          f"test accuracy (one view) after each epoch, and the wall time (training and "
          f"evaluations) to reach each level")
    levels = sorted({0.90, 0.905, args.target})
    print("| trainer | accuracy per epoch | " +
          " | ".join(f"time to {100 * t:g}%" for t in levels) + " |")
    print("|---|---|" + "---|" * len(levels))
    for name, history in rows:
        hits = [time_to(history, t) for t in levels]
        print(f"| {name} | {', '.join(f'{100 * a:.2f}%' for _, _, a in history)} | " +
              " | ".join(f"{h[1]:.0f} s (epoch {h[0]})" if h else "not reached" for h in hits) +
              " |")
    if len(rows) == 2:
        for t in levels:
            ours, theirs = time_to(rows[0][1], t), time_to(rows[1][1], t)
            if ours and theirs:
                print(f"time to {100 * t:g}%: PyTorch / libalexnet = {theirs[1] / ours[1]:.2f}x")


if __name__ == "__main__":
    main()
