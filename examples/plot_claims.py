#!/usr/bin/python3
"""Draws the curves of a paper_claims run: one figure per experiment, OUT/claimN-IMAGESxEPOCHS.png,
with the training error (over the last 50 batches, against steps) on the left and the test error
(against epochs) on the right; each arm's mean over its seeds as a line, their range shaded.

    /usr/bin/python3 examples/plot_claims.py OUT
"""
import csv
import os
import sys
from collections import OrderedDict, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read_curve(path):
    """(steps, training errors) and (epochs, test errors) of one run, errors in percent."""
    train, test = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["train_error"]:
                train.append((int(row["step"]), 100 * float(row["train_error"])))
            if row["test_error"]:
                test.append((int(row["epoch"]), 100 * float(row["test_error"])))
    return train, test


def band(axis, runs, label, color):
    """Mean line and min-max band over runs, each a list of (x, y); x cut to the shortest run."""
    runs = [r for r in runs if r]
    if not runs:
        return
    length = min(len(r) for r in runs)
    x = np.array([p[0] for p in runs[0][:length]])
    y = np.array([[p[1] for p in r[:length]] for r in runs])
    axis.plot(x, y.mean(axis=0), label=label, color=color, marker="o" if length < 12 else None)
    if len(runs) > 1:
        axis.fill_between(x, y.min(axis=0), y.max(axis=0), color=color, alpha=0.2)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    figures = OrderedDict()
    with open(os.path.join(out, "plots.csv"), newline="") as f:
        for row in csv.DictReader(f):
            figure = figures.setdefault(row["figure"], {"title": f"Claim {row['claim']}: "
                                                                 f"{row['title']}",
                                                        "arms": OrderedDict()})
            figure["arms"].setdefault(row["arm"], []).append(os.path.join(out, row["curve"]))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for name, figure in figures.items():
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
        for index, (arm, paths) in enumerate(figure["arms"].items()):
            curves = defaultdict(list)
            for path in paths:
                train, test = read_curve(path)
                curves["train"].append(train)
                curves["test"].append(test)
            color = colors[index % len(colors)]
            band(left, curves["train"], arm, color)
            band(right, curves["test"], arm, color)
        left.set_xlabel("step (batches of 64)")
        left.set_ylabel("training error, last 50 batches (%)")
        right.set_xlabel("epoch")
        right.set_ylabel("test error (%)")
        for axis in (left, right):
            axis.grid(alpha=0.3)
        left.set_yscale("log")
        right.legend(fontsize=8)
        fig.suptitle(figure["title"], fontsize=10)
        fig.tight_layout()
        path = os.path.join(out, f"{name}.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        print(path)


if __name__ == "__main__":
    main()
