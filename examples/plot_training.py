#!/usr/bin/python3
"""Draws the curves of a train_fashion_mnist run: training loss per 20 batches and test loss per
epoch on the left, test accuracy per epoch on the right, into RUN/training.png.

    /usr/bin/python3 examples/plot_training.py RUN
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    run = sys.argv[1]
    epochs = read(os.path.join(run, "log.csv"))
    steps = read(os.path.join(run, "steps.csv"))
    batches_per_epoch = int(steps[-1]["step"]) / max(int(steps[-1]["epoch"]), 1)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot([int(s["step"]) / batches_per_epoch for s in steps],
              [float(s["loss"]) for s in steps], label="training loss (20 batches)", lw=1)
    left.plot([int(e["epoch"]) for e in epochs], [float(e["test_loss"]) for e in epochs], "o-",
              label="test loss")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.set_ylim(bottom=0)
    left.legend()
    left.grid(alpha=0.3)
    accuracy = [100 * float(e["test_accuracy"]) for e in epochs]
    right.plot([int(e["epoch"]) for e in epochs], accuracy, "o-", color="tab:green")
    for e, a in zip(epochs, accuracy):
        right.annotate(f"{a:.1f}%", (int(e["epoch"]), a), textcoords="offset points",
                       xytext=(0, 6), ha="center", fontsize=8)
    right.set_xlabel("epoch")
    right.set_ylabel("test accuracy (%)")
    right.grid(alpha=0.3)
    fig.suptitle("AlexNet (ALEXNET_ARCH_MINI) on Fashion-MNIST, libalexnet")
    fig.tight_layout()
    out = os.path.join(run, "training.png")
    fig.savefig(out, dpi=110)
    print(f"curves: {out}")


if __name__ == "__main__":
    main()
