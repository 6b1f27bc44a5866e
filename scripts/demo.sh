#!/bin/sh
# The README's demo command: installs what is missing, builds, trains AlexNet (ALEXNET_ARCH_MINI)
# on Debian's Fashion-MNIST with the default settings, prints the final test accuracy, classifies
# a few test images with the saved model, and draws the pictures.
#   scripts/demo.sh [OUTPUT_DIR] [train_fashion_mnist options, e.g. --epochs 30 --pad 2]
set -eu
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target train_fashion_mnist classify \
    >/dev/null

out=${1:-fashion-mnist-run}
[ $# -gt 0 ] && shift
data=/usr/share/datasets/fashion-mnist

echo "== train"
./build/examples/train_fashion_mnist --data "$data" --out "$out" "$@"

echo "== classify test images with $out/model.safetensors"
./build/examples/alexnet-classify "$out/model.safetensors" \
    --idx "$data/t10k-images-idx3-ubyte.gz" "$data/t10k-labels-idx1-ubyte.gz" \
    --first 8 --save-png "$out/samples"
./build/examples/alexnet-classify "$out/model.safetensors" --ten-crop "$out/samples/0.png" \
    "$out/samples/1.png"

echo "== pictures"
/usr/bin/python3 examples/plot_training.py "$out"
echo "first-layer filters: $out/filters.png"
echo "loss and accuracy curves: $out/training.png"
echo "test samples as PNG: $out/samples/"
