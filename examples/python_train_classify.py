#!/usr/bin/python3
"""Trains AlexNet (MINI) on part of Fashion-MNIST from Python, then classifies test images with
the saved model, through the `alexnet` package (bindings/python).

    ALEXNET_LIBRARY=build/lib/libalexnet.so /usr/bin/python3 examples/python_train_classify.py \
        [--data DIR] [--steps N] [--out DIR]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings",
                                "python"))
import alexnet  # noqa: E402

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
MEAN, STD = 0.2860, 0.3530


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default="python-run")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    train = alexnet.Dataset.idx(f"{args.data}/train-images-idx3-ubyte.gz",
                                f"{args.data}/train-labels-idx1-ubyte.gz")
    test = alexnet.Dataset.idx(f"{args.data}/t10k-images-idx3-ubyte.gz",
                               f"{args.data}/t10k-labels-idx1-ubyte.gz")
    net = alexnet.Network("mini", init="he", dropout=0.0, seed=1)
    net.class_names = CLASSES
    opt = alexnet.SGD(net, lr=0.01)
    loader = alexnet.Loader(train, batch_size=64, seed=1, random_crop=True, pad=2, flip=True,
                            mean=MEAN, std=STD)
    losses = []
    for step, (images, labels) in enumerate(loader.epoch(0)):
        if step == args.steps:
            break
        losses.append(opt.train_step(images, labels))
        if step % 100 == 99:
            print(f"step {step + 1}: loss {np.mean(losses[-100:]):.4f}")

    correct = 0
    test_loader = alexnet.Loader(test, batch_size=500, shuffle=False, mean=MEAN, std=STD)
    for images, labels in test_loader.epoch(0):
        correct += int((net.predict(images).argmax(axis=1) == labels).sum())
    print(f"test accuracy after {args.steps} steps: {100 * correct / len(test):.2f}%")

    path = os.path.join(args.out, "model.safetensors")
    net.save(path)
    with alexnet.Network.load(path) as model:
        for i in range(3):
            image, label = test[i]
            png = os.path.join(args.out, f"test{i}.png")
            alexnet.save_png(image, png)
            x = (alexnet.load_image(png, channels=1) - MEAN) / STD
            p = model.predict(x[None])[0]
            print(f"{png} ({model.class_names[label]}): {model.class_names[p.argmax()]} "
                  f"{100 * p.max():.1f}%")
    return 0 if correct > 0.5 * len(test) else 1


if __name__ == "__main__":
    sys.exit(main())
