"""Serving measurements of PyTorch, the counterpart of bench_serve, one per process:
    bench_torch_serve.py make MODEL.pth           saves torchvision's AlexNet state_dict
    bench_torch_serve.py load MODEL.pth REPEATS   best and first time of torch.load +
                                                  load_state_dict
    bench_torch_serve.py memory MODEL.pth         builds the model, loads the file and classifies
                                                  one 224x224 image: peak resident memory
    bench_torch_serve.py latency ITERATIONS       batch-1 latency: median of ITERATIONS
The thread count comes from ALEXNET_BENCH_THREADS (default: torch's own). Prints one JSON object."""
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import torch  # noqa: E402
from torch_reference import TORCHVISION, torch_model  # noqa: E402


def model():
    return torch_model(TORCHVISION, 3, 224, 1000).eval()


def image():
    return torch.rand(1, 3, 224, 224) * 2 - 1


def main():
    mode = sys.argv[1]
    if os.environ.get("ALEXNET_BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["ALEXNET_BENCH_THREADS"]))
    if mode == "make":
        torch.save(model().state_dict(), sys.argv[2])
        result = {}
    elif mode == "load":
        net, times = model(), []
        for _ in range(int(sys.argv[3])):
            start = time.perf_counter()
            net.load_state_dict(torch.load(sys.argv[2]))
            times.append(time.perf_counter() - start)
        result = {"load_s": min(times), "first_load_s": times[0]}
    elif mode == "memory":
        net = model()
        net.load_state_dict(torch.load(sys.argv[2]))
        with torch.no_grad():
            net(image())
        result = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    elif mode == "latency":
        net, x, times = model(), image(), []
        with torch.no_grad():
            net(x)
            for _ in range(int(sys.argv[2])):
                start = time.perf_counter()
                net(x)
                times.append(time.perf_counter() - start)
        result = {"latency_ms": statistics.median(times) * 1e3, "threads": torch.get_num_threads()}
    else:
        sys.exit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
