"""libalexnet next to PyTorch on the same machine, thread count and shapes, in one run.

    /usr/bin/python3 bench/run.py [--build build] [--threads N] [--quick]

Each measurement runs in a fresh process (so peak memory is that process's own) and the two
libraries alternate case by case, so both see the same machine state. Prints:
- a table of images/s and peak resident memory with libalexnet/PyTorch ratios (speed > 1:
  libalexnet faster; memory < 1: libalexnet smaller). PyTorch's peak includes its interpreter and
  library (~300 MiB before any tensor), which a PyTorch user pays too;
- OpenBLAS's sgemm rate on this machine with the same threads, the bound for a convolution
  computed as im2col + GEMM;
- how training scales from one thread to all of them (the fastest of five alternating runs each);
- for each training case, the time of every layer's forward and backward and, for convolutions
  and fully connected layers, their rate in GFLOP/s of the direct algorithm's work and as a share
  of the sgemm rate measured just before and after that case (a shared host's speed drifts;
  above 100%: fewer multiplications than GEMM, as Winograd's layers)."""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (arch, mode, batch, timed iterations)
CASES = [
    ("torchvision", "infer", 1, 20),
    ("torchvision", "infer", 128, 3),
    ("torchvision", "train", 128, 3),
    ("paper", "infer", 1, 20),
    ("paper", "infer", 128, 3),
    ("paper", "train", 128, 3),
    ("mini", "train", 128, 20),
]
QUICK_CASES = [("torchvision", "infer", 1, 5), ("torchvision", "train", 32, 2),
               ("mini", "train", 128, 5)]
# Training cases also measured with one thread, for the scaling table.
SCALING = [("torchvision", "train", 128, 3), ("mini", "train", 128, 20)]
QUICK_SCALING = [("mini", "train", 128, 5)]
SCALING_ROUNDS = 5


def measure(command, env=None):
    """Runs one measurement in its own process and returns the JSON object it prints last."""
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true", help="small cases, for a smoke test")
    args = parser.parse_args()
    ours_exe = os.path.join(args.build, "bench", "bench_alexnet")
    torch_script = os.path.join(HERE, "bench_torch.py")
    sgemm_command = [ours_exe, "sgemm", str(args.threads)]
    rows, case_sgemm = [], {}
    for arch, mode, batch, iterations in QUICK_CASES if args.quick else CASES:
        common = [arch, mode, str(batch), str(iterations), str(args.threads)]
        name = f"{arch} {mode} batch {batch}"
        if mode == "train":  # the bound for its per-layer rates, taken right around it
            before = measure(sgemm_command)["sgemm_gflops"]
        ours = measure([ours_exe] + common)
        if mode == "train":
            case_sgemm[name] = (before + measure(sgemm_command)["sgemm_gflops"]) / 2
        theirs = measure([sys.executable, torch_script] + common)
        rows.append((name, ours, theirs))
        print(f"  measured {name}", file=sys.stderr)

    sgemm = measure(sgemm_command)["sgemm_gflops"]
    scaling = []
    if args.threads > 1:
        for arch, mode, batch, iterations in QUICK_SCALING if args.quick else SCALING:
            # One and all threads alternate, five times each, and the fastest of each counts: a
            # shared host's load drifts over minutes, and one pair of runs can land one of them
            # in a busy minute; all threads need every core quiet at once, one thread only one.
            common = [ours_exe, arch, mode, str(batch), str(iterations)]
            runs = [(measure(common + ["1"]), measure(common + [str(args.threads)]))
                    for _ in range(SCALING_ROUNDS)]
            one = max((r[0] for r in runs), key=lambda m: m["images_per_s"])
            alln = max((r[1] for r in runs), key=lambda m: m["images_per_s"])
            scaling.append((f"{arch} {mode} batch {batch}", one, alln))
            print(f"  measured {arch} with 1 and {args.threads} threads", file=sys.stderr)

    print(f"threads: {args.threads} (libalexnet {rows[0][1]['threads']}, "
          f"PyTorch {rows[0][2]['threads']})")
    header = ("case", "alexnet img/s", "torch img/s", "speed ratio", "alexnet MiB", "torch MiB",
              "memory ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, ours, theirs in rows:
        print(f"| {name} | {ours['images_per_s']:.1f} | {theirs['images_per_s']:.1f} | "
              f"{ours['images_per_s'] / theirs['images_per_s']:.2f}x | "
              f"{ours['peak_rss_mib']:.0f} | {theirs['peak_rss_mib']:.0f} | "
              f"{ours['peak_rss_mib'] / theirs['peak_rss_mib']:.2f} |")

    print(f"\nOpenBLAS sgemm, 2048 x 2048, {args.threads} threads: {sgemm:.0f} GFLOP/s")
    if scaling:
        print(f"\n| libalexnet training | 1 thread img/s | {args.threads} threads img/s | speed-up |")
        print("|---|---|---|---|")
        for name, one, alln in scaling:
            print(f"| {name} | {one['images_per_s']:.1f} | {alln['images_per_s']:.1f} | "
                  f"{alln['images_per_s'] / one['images_per_s']:.2f}x |")
    for name, ours, _ in rows:
        if "train" in name:
            print_layers(name, ours, case_sgemm[name])


def print_layers(name, ours, sgemm):
    """Per-layer times of one training case, with the rate of the GEMM-shaped layers."""
    print(f"\nPer layer, libalexnet {name} (ms per step; GFLOP/s of the direct algorithm's "
          f"work; share of sgemm's {sgemm:.0f} GFLOP/s, measured just before and after the case):")
    print("| layer | forward ms | backward ms | share of step | forward GFLOP/s | "
          "backward GFLOP/s | of sgemm (fwd / bwd) |")
    print("|---|---|---|---|---|---|---|")
    total = sum(l["forward_ms"] + l["backward_ms"] for l in ours["layers"])
    for l in ours["layers"]:
        share = (l["forward_ms"] + l["backward_ms"]) / total
        if l["forward_gflop"] > 0:
            fwd = l["forward_gflop"] / l["forward_ms"] * 1e3
            bwd = l["backward_gflop"] / l["backward_ms"] * 1e3
            rates = f"{fwd:.0f} | {bwd:.0f} | {100 * fwd / sgemm:.0f}% / {100 * bwd / sgemm:.0f}%"
        else:
            rates = " | | "
        print(f"| {l['name']} | {l['forward_ms']:.2f} | {l['backward_ms']:.2f} | "
              f"{100 * share:.1f}% | {rates} |")


if __name__ == "__main__":
    main()
