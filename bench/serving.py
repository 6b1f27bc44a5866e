"""Serving figures: libalexnet next to PyTorch on the same machine and thread count, in one run.

    /usr/bin/python3 bench/serving.py [--build build] [--threads N] [--quick]

Every measurement runs in a fresh process (bench_serve, bench_torch_serve.py), so each peak
resident memory is that measurement's own. Measures, for torchvision's AlexNet (233 MiB of
weights):
  - the peak memory of a host that loads the model and classifies one image (read, and mapped);
  - the peak memory with 1, 2, 4 and 8 handles sharing one copy of the weights, each classifying
    an image on its own host thread at the same time;
  - the total memory of 1, 2 and 4 processes serving the same file, read and mapped;
  - load time (the first in the process, and the best of 3; the file in the page cache) next to
    torch.load + load_state_dict;
  - batch-1 latency next to PyTorch's;
  - images/s at batch 1 with 1 and 2 host threads, the library's pool at N threads and at 1.
Prints Markdown tables (ratios: time < 1 and speed > 1 mean libalexnet is faster)."""
import argparse
import os
import sys
import tempfile

from run import measure as measure_in_process

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(command, threads):
    return measure_in_process(command, dict(os.environ, ALEXNET_BENCH_THREADS=str(threads)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke test")
    args = parser.parse_args()
    serve = os.path.join(args.build, "bench", "bench_serve")
    torch_serve = [sys.executable, os.path.join(HERE, "bench_torch_serve.py")]
    threads = args.threads
    iterations, seconds, repeats = (5, 1, 1) if args.quick else (30, 5, 3)

    def ours(*argv, pool=threads):
        return measure([serve] + [str(a) for a in argv], pool)

    def theirs(*argv):
        return measure(torch_serve + [str(a) for a in argv], threads)

    with tempfile.TemporaryDirectory() as tmp:
        model, pth = os.path.join(tmp, "torchvision.safetensors"), os.path.join(tmp, "tv.pth")
        ours("make", model)
        theirs("make", pth)
        weights_mib = os.path.getsize(model) / 1048576.0

        print(f"threads: {threads}; model: torchvision AlexNet, {weights_mib:.1f} MiB file\n")
        print("## Memory: load and classify one image (peak resident)\n")
        torch_mem = theirs("memory", pth)["peak_rss_mib"]
        print("| host | peak MiB | over the weights | vs PyTorch |")
        print("|---|---|---|---|")
        for label, extra in (("libalexnet, alexnet_network_load", []),
                             ("libalexnet, alexnet_network_load_mapped", ["mapped"])):
            m = ours("memory", model, 1, *extra)
            print(f"| {label} | {m['peak_rss_mib']:.0f} | {m['peak_rss_mib'] - weights_mib:+.0f} | "
                  f"{m['peak_rss_mib'] / torch_mem:.2f}x |")
        print(f"| PyTorch (model, torch.load, load_state_dict) | {torch_mem:.0f} | "
              f"{torch_mem - weights_mib:+.0f} | 1.00x |")

        print("\n## Memory: handles sharing one copy of the weights (each classifies one image on "
              "its own host thread, all at once)\n")
        print("| handles | peak MiB | over 1 handle | activations MiB (all handles) |")
        print("|---|---|---|---|")
        first = None
        for handles in (1, 2, 4, 8):
            m = ours("memory", model, handles)
            first = m["peak_rss_mib"] if first is None else first
            print(f"| {handles} | {m['peak_rss_mib']:.0f} | {m['peak_rss_mib'] - first:+.0f} | "
                  f"{m['activation_mib']:.1f} |")

        print("\n## Memory: processes serving the same model (total proportional set size: "
              "shared pages divided among the processes that share them)\n")
        print("| processes | read, total MiB | mapped, total MiB |")
        print("|---|---|---|")
        for processes in (1, 2, 4):
            read = ours("processes", model, processes)["total_pss_mib"]
            mapped = ours("processes", model, processes, "mapped")["total_pss_mib"]
            print(f"| {processes} | {read:.0f} | {mapped:.0f} |")

        print("\n## Time\n")
        load_read = ours("load", model, repeats)
        load_mapped = ours("load", model, repeats, "mapped")
        load_torch = theirs("load", pth, repeats)
        lat = ours("latency", model, iterations)["latency_ms"]
        lat_torch = theirs("latency", iterations)["latency_ms"]
        print("| measurement | libalexnet | PyTorch | ratio (time) |")
        print("|---|---|---|---|")
        for label, key in (("first in the process", "first_load_s"),
                           (f"best of {repeats}", "load_s")):
            torch_s = load_torch[key]
            print(f"| load, read ({label}) | {load_read[key] * 1e3:.0f} ms | "
                  f"{torch_s * 1e3:.0f} ms | {load_read[key] / torch_s:.2f}x |")
            print(f"| load, mapped ({label}) | {load_mapped[key] * 1e3:.1f} ms | "
                  f"{torch_s * 1e3:.0f} ms | {load_mapped[key] / torch_s:.4f}x |")
        print(f"| batch-1 latency (median of {iterations}) | {lat:.1f} ms | {lat_torch:.1f} ms | "
              f"{lat / lat_torch:.2f}x |")

        print("\n## Throughput at batch 1 (each host thread with its own share)\n")
        print("| host threads | pool threads | images/s |")
        print("|---|---|---|")
        for pool in sorted({threads, 1}, reverse=True):
            for host in (1, 2):
                r = ours("throughput", model, host, seconds, pool=pool)
                print(f"| {host} | {pool} | {r['images_per_s']:.1f} |")


if __name__ == "__main__":
    main()
