#!/bin/sh
# The main job's host programs, end to end on a slice of Fashion-MNIST: train one epoch (augmented),
# resume for a second (plain, the default last epoch), classify IDX samples and PNG files (plain and ten-crop) with the saved model, and draw
# the curves.
set -eu
build=$1
src=$2
python=$3
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run="$tmp/run"

"$build/examples/train_fashion_mnist" --data "$data" --out "$run" --epochs 1 --limit 1280 \
    --batch 64 --pad 2 --plain-epochs 0 | tee "$tmp/train.txt"
for f in model.safetensors checkpoint.safetensors log.csv steps.csv filters.png; do
    [ -s "$run/$f" ] || { echo "missing $run/$f"; exit 1; }
done
grep -Eq "final test accuracy: [0-9.]+% \(one view\), [0-9.]+% \(averaged with the mirror" \
    "$tmp/train.txt"

"$build/examples/train_fashion_mnist" --data "$data" --out "$run" --epochs 2 --limit 1280 \
    --batch 64 --resume | tee "$tmp/resume.txt"
grep -q "resumed from .* after epoch 1" "$tmp/resume.txt"
[ "$(grep -c '^[0-9]' "$run/log.csv")" -eq 2 ] || { echo "log.csv lacks epoch 2"; exit 1; }

"$build/examples/alexnet-classify" "$run/model.safetensors" --idx "$data/t10k-images-idx3-ubyte.gz" \
    "$data/t10k-labels-idx1-ubyte.gz" --first 4 --save-png "$tmp/samples" | tee "$tmp/idx.txt"
grep -q "of 4 correct" "$tmp/idx.txt"
"$build/examples/alexnet-classify" "$run/model.safetensors" "$tmp/samples/0.png" | tee "$tmp/png.txt"
"$build/examples/alexnet-classify" "$run/model.safetensors" --ten-crop --top 2 "$tmp/samples/1.png" \
    | tee -a "$tmp/png.txt"
# Class names travel with the model: Fashion-MNIST's, not numbers.
grep -Eq "(T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot) [0-9.]+%" \
    "$tmp/png.txt"
if "$build/examples/alexnet-classify" "$run/model.safetensors" "$tmp/missing.png" 2>"$tmp/err.txt"; then
    echo "classify accepted a missing file"; exit 1
fi
grep -q "missing.png" "$tmp/err.txt"
"$build/examples/alexnet-classify" --help | grep -q "^usage: alexnet-classify MODEL"

"$python" "$src/examples/plot_training.py" "$run"
[ -s "$run/training.png" ]
echo "examples ran end to end"
