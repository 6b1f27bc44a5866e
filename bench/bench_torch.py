"""One benchmark measurement of PyTorch in its own process, the counterpart of bench_alexnet:
    bench_torch.py ARCH MODE BATCH ITERATIONS [THREADS]
Same shapes, same thread count, same protocol (one warm-up pass, then ITERATIONS timed passes,
images/s from the median pass, so that a burst of another tenant's work on a shared machine does
not decide the figure); train is forward, backward and an SGD step (momentum 0.9, weight decay
5e-4). Prints one JSON object."""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import torch  # noqa: E402
from torch_reference import ARCH_NAMES, torch_model  # noqa: E402

DEFAULTS = {"paper": (3, 227, 1000), "torchvision": (3, 224, 1000), "mini": (1, 28, 10)}


def main():
    arch_name, mode, batch, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if len(sys.argv) > 5:
        torch.set_num_threads(int(sys.argv[5]))
    channels, side, classes = DEFAULTS[arch_name]
    model = torch_model(ARCH_NAMES[arch_name], channels, side, classes)
    x = torch.rand(batch, channels, side, side) - 0.5
    labels = torch.arange(batch) % classes
    train = mode == "train"
    model.train(train)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    times = []
    for it in range(iterations + 1):
        start = time.perf_counter()
        if train:
            optimizer.zero_grad(set_to_none=False)
            loss_fn(model(x), labels).backward()
            optimizer.step()
        else:
            with torch.no_grad():
                model(x)
        if it > 0:  # the first pass is the warm-up
            times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"images_per_s": batch / seconds, "peak_rss_mib": peak,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
