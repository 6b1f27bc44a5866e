#!/usr/bin/python3
"""Serves predictions from a pool of threads over one loaded model, through the `alexnet` package
(bindings/python): each thread classifies with its own Network.share() of the model, so the weights
are in memory once however many threads serve, and each request costs only its activations.

    ALEXNET_LIBRARY=build/lib/libalexnet.so /usr/bin/python3 examples/python_serve.py \
        [--model FILE] [--mapped] [--requests N]

Without --model it serves a TORCHVISION AlexNet with random weights (233 MiB), saved to a temporary
file first. For 1, 2, 4 and 8 threads it prints the requests served, images/s, and the process's
resident memory, which grows by the activations of each new thread (a few MiB), not by the weights.
ctypes releases the GIL during each library call, so the threads run at the same time.
"""
import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))
import alexnet  # noqa: E402


def resident_mib():
    """This process's resident memory now (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Server:
    """One loaded model; each serving thread gets its own share of it on first use."""

    def __init__(self, model):
        self.model = model
        self.local = threading.local()
        self.shares = []
        self.lock = threading.Lock()

    def _network(self):
        net = getattr(self.local, "net", None)
        if net is None:
            net = self.local.net = self.model.share()
            with self.lock:
                self.shares.append(net)
        return net

    def classify(self, image):
        """The most probable class of one image [C, H, W], and its probability."""
        probabilities = self._network().predict(image[np.newaxis])[0]
        best = int(np.argmax(probabilities))
        return best, float(probabilities[best])

    def close(self):
        for net in self.shares:
            net.close()
        self.shares = []


def serve(model, threads, requests):
    server = Server(model)
    rng = np.random.default_rng(threads)
    images = [rng.random(model.input_shape, dtype=np.float32) for _ in range(requests)]
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(server.classify, images))
    seconds = time.perf_counter() - start
    rss = resident_mib()
    server.close()
    return len(answers), len(answers) / seconds, rss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model file (default: a random TORCHVISION AlexNet)")
    parser.add_argument("--mapped", action="store_true", help="map the weights from the file")
    parser.add_argument("--requests", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.model
        if path is None:
            path = os.path.join(tmp, "torchvision.safetensors")
            with alexnet.Network("torchvision", seed=1) as net:
                net.save(path)
        with alexnet.Network.load(path, mapped=args.mapped) as model:
            memory = model.memory()
            weights = memory["weight_bytes"] / 1048576.0
            print(f"model: {path} ({weights:.0f} MiB of weights"
                  f"{', mapped' if memory['weights_mapped'] else ''}); "
                  f"resident before serving: {resident_mib():.0f} MiB")
            print("threads  requests  images/s  resident MiB")
            resident = {}
            for threads in (1, 2, 4, 8):
                served, rate, resident[threads] = serve(model, threads, args.requests)
                print(f"{threads:7d}  {served:8d}  {rate:8.1f}  {resident[threads]:12.0f}")
            assert model.memory()["weight_readers"] == 1  # every share has been closed
            growth = resident[8] - resident[1]
            print(f"from 1 to 8 threads the process grew by {growth:.0f} MiB; the weights are "
                  f"{weights:.0f} MiB and are held once")
            if growth > weights / 2:
                sys.exit("error: memory grew as if the weights were copied per thread")


if __name__ == "__main__":
    main()
