#!/bin/sh
# The README's pretrained path, run as written: a torchvision AlexNet .pth (random weights here,
# saved under the pretrained file's name) converted with tools/convert_torchvision.py, then a
# photo classified with alexnet-classify, which must print ImageNet category names; then the
# README's ONNX block (export, convert back, classify: the same answer); then the README's
# bvlc_alexnet evaluation block, on a graph of the model zoo's structure (random weights) and a
# folder of eight photos in two synset folders, against classifying the photos one by one.
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

# The README's bvlc_alexnet evaluation, as written.
"$python" - "$tmp" "$src/tests/python" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[2])
import numpy as np
import onnx
import torch
from PIL import Image
from onnx_graphs import paper_graph
from torch_reference import CAFFE, PAPER, torch_model
tmp = sys.argv[1]
torch.manual_seed(1)
zoo = torch_model(PAPER, 3, 224, 1000, **CAFFE).eval()
with torch.no_grad():  # classes 0 and 1 always first and second: top-1 50%, top-5 100%
    zoo[-1].bias[:2] = torch.tensor([50.0, 49.0])
onnx.save(paper_graph(zoo, 224, 1e-4, 1.0, {"pads": [0, 0, 1, 1]}), f"{tmp}/bvlcalexnet-12.onnx")
rng = np.random.default_rng(2)
for k in range(8):
    folder = f"{tmp}/imagenet/val/{['n01440764', 'n01443537'][k % 2]}"
    os.makedirs(folder, exist_ok=True)
    pixels = (rng.random((240 + 10 * k, 320, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(f"{folder}/ILSVRC2012_val_{k:08d}.JPEG", format="JPEG")
PY
"$src/tests/extract_readme_block.sh" "$src/README.md" imagenet-eval >"$tmp/eval.sh"
[ -s "$tmp/eval.sh" ] || { echo "README has no imagenet-eval block"; exit 1; }
(cd "$tmp" && sh -eu eval.sh) | tee "$tmp/eval.txt"
(cd "$tmp" && ./build/examples/alexnet-classify bvlc_alexnet.safetensors --top 5 \
    imagenet/val/*/*.JPEG) >"$tmp/each.txt"
"$python" - "$tmp" <<'PY'
import re, sys
tmp = sys.argv[1]
truth = {"n01440764": "tench", "n01443537": "goldfish"}
top1 = top5 = 0
for line in open(f"{tmp}/each.txt"):
    path, shown = line.split(": ", 1)
    names = re.findall(r"\d\. (.+?) [0-9.]+%", shown)
    label = truth[path.split("/")[-2]]
    top1 += names[0] == label
    top5 += label in names
want = f"imagenet/val: top-1 {100 * top1 / 8:.2f}%  top-5 {100 * top5 / 8:.2f}%  (8 images, centre crop)"
got = open(f"{tmp}/eval.txt").read().strip().splitlines()[-1]
assert got == want, (got, want)
assert "top-1 50.00%  top-5 100.00%" in got, got
print("--folder agrees with classifying each photo:", got)
PY
