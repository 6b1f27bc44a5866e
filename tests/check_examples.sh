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

# The model records Fashion-MNIST's mean and std (alexnet.preprocessing), and --folder measures
# top-1 / top-5 over a folder per class as alexnet-classify finds them one by one: 100 test
# images sorted into folders c0..c9, against the same images through --idx --top 5.
"$build/examples/alexnet-classify" "$run/model.safetensors" --idx "$data/t10k-images-idx3-ubyte.gz" \
    "$data/t10k-labels-idx1-ubyte.gz" --first 100 --top 5 --save-png "$tmp/hundred" >"$tmp/five.txt"
"$python" - "$tmp" <<'PY'
import os, re, sys
tmp = sys.argv[1]
names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot"]
top1 = top5 = 0
for line in open(f"{tmp}/five.txt"):
    m = re.match(r"sample (\d+) \((.*?)\): (.*)", line)
    if not m:
        continue
    label = names.index(m.group(2))
    shown = re.findall(r"\d\. (.+?) [0-9.]+%", m.group(3))
    top1 += shown[0] == m.group(2)
    top5 += m.group(2) in shown
    os.makedirs(f"{tmp}/tree/c{label}", exist_ok=True)
    os.rename(f"{tmp}/hundred/{m.group(1)}.png", f"{tmp}/tree/c{label}/{int(m.group(1)):03d}.png")
assert len(os.listdir(f"{tmp}/tree")) == 10, "the first 100 test images lack a class"
open(f"{tmp}/expected.txt", "w").write(f"top-1 {top1:.2f}%  top-5 {top5:.2f}%  (100 images")
PY
"$build/examples/alexnet-classify" "$run/model.safetensors" --folder "$tmp/tree" | tee "$tmp/folder.txt"
grep -qF "$(cat "$tmp/expected.txt")" "$tmp/folder.txt" ||
    { echo "--folder disagrees with classifying the images one by one: $(cat "$tmp/expected.txt")"; exit 1; }

"$python" "$src/examples/plot_training.py" "$run"
[ -s "$run/training.png" ]
echo "examples ran end to end"
