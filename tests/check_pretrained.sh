#!/bin/sh
# The README's pretrained path, run as written: a torchvision AlexNet .pth (random weights here,
# saved under the pretrained file's name) converted with tools/convert_torchvision.py, then a
# photo classified with alexnet-classify, which must print ImageNet category names; then the
# README's ONNX block (export, convert back, classify: the same answer).
set -eu
src=$1
build=$2
python=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$src/tools" "$tmp/tools"
ln -s "$(cd "$build" && pwd)" "$tmp/build"
"$python" - "$tmp" <<'PY'
import sys
import numpy as np
import torch
import torchvision
from PIL import Image
torch.manual_seed(0)
torch.save(torchvision.models.alexnet().state_dict(), f"{sys.argv[1]}/alexnet-owt-7be5be79.pth")
pixels = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)
Image.fromarray(pixels).save(f"{sys.argv[1]}/photo.jpg")
PY
"$src/tests/extract_readme_block.sh" "$src/README.md" pretrained >"$tmp/run.sh"
[ -s "$tmp/run.sh" ] || { echo "README has no pretrained block"; exit 1; }
(cd "$tmp" && sh -eu run.sh) | tee "$tmp/out.txt"
"$python" - "$tmp/out.txt" <<'PY'
import sys
from torchvision.models import AlexNet_Weights
names = AlexNet_Weights.IMAGENET1K_V1.meta["categories"]
line = open(sys.argv[1]).read().splitlines()[-1]
assert line.startswith("photo.jpg:"), line
shown = [part.split(". ", 1)[1].rsplit(" ", 1)[0] for part in line.split(":", 1)[1].split("  ")
         if ". " in part]
assert len(shown) == 3 and all(name in names for name in shown), line
print("classified with ImageNet category names:", ", ".join(shown))
PY
# The README's ONNX block continues from there: export, convert back, classify the same.
"$src/tests/extract_readme_block.sh" "$src/README.md" onnx >"$tmp/onnx.sh"
[ -s "$tmp/onnx.sh" ] || { echo "README has no onnx block"; exit 1; }
(cd "$tmp" && sh -eu onnx.sh) | tee "$tmp/onnx.txt"
[ "$(tail -n 1 "$tmp/onnx.txt" | cut -d: -f2)" = "$(tail -n 1 "$tmp/out.txt" | cut -d: -f2)" ] ||
    { echo "the model converted back from ONNX classifies differently"; exit 1; }
