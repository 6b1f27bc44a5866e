"""safetensors interoperability with numpy and PyTorch:
1. a file written here with numpy (torchvision keys, no metadata) loads through
   alexnet_network_load_weights, and the network then gives torch's logits;
2. a file libalexnet writes is read back by the small numpy reader below, values equal;
3. tools/convert_torchvision.py turns a torchvision .pth into a file that load_weights and
   alexnet_network_load take.

Usage: safetensors_interop.py path/to/libalexnet.so
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

from safetensors_io import read_safetensors, write_safetensors
from torch_reference import assert_same_logits, load_package

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERTER = os.path.join(HERE, "..", "..", "tools", "convert_torchvision.py")
alexnet = load_package(sys.argv[1])


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    classes = 10
    model = torchvision.models.alexnet(num_classes=classes)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        # 1. written by numpy, loaded by libalexnet
        path = os.path.join(tmp, "from_numpy.safetensors")
        write_safetensors(path, state)
        net = alexnet.Network("torchvision", num_classes=classes, seed=3)
        net.load_weights(path)
        assert_same_logits(net, model, 224, "numpy-written file")

        # 2. written by libalexnet, read by numpy
        ours = os.path.join(tmp, "ours.safetensors")
        net.save(ours)
        metadata, tensors = read_safetensors(ours)
        assert metadata["alexnet.format"] == "1", metadata
        config = json.loads(metadata["alexnet.config"])
        assert config["arch"] == "torchvision" and config["num_classes"] == classes, config
        canonical = {"features.0": "conv1", "features.3": "conv2", "features.6": "conv3",
                     "features.8": "conv4", "features.10": "conv5", "classifier.1": "fc6",
                     "classifier.4": "fc7", "classifier.6": "fc8"}
        for key, array in state.items():
            layer, kind = key.rsplit(".", 1)
            name = f"{canonical[layer]}.{kind}"
            assert np.array_equal(tensors[name], array), name
        with open(ours, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
        assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
        print(f"libalexnet-written file: {len(tensors)} tensors read back equal by numpy")
        net.close()

        # 3. the converter, from a torchvision .pth
        pth = os.path.join(tmp, "alexnet.pth")
        torch.save(model.state_dict(), pth)
        converted = os.path.join(tmp, "converted.safetensors")
        subprocess.run([sys.executable, CONVERTER, pth, converted], check=True)
        net = alexnet.Network("torchvision", num_classes=classes, seed=3)
        net.load_weights(converted)
        assert_same_logits(net, model, 224, "converted .pth via load_weights")
        net.close()
        with alexnet.Network.load(converted) as loaded:
            assert_same_logits(loaded, model, 224, "converted .pth via alexnet_network_load")
        canonical_file = os.path.join(tmp, "canonical.safetensors")
        subprocess.run([sys.executable, CONVERTER, "--canonical", "--no-config", pth,
                        canonical_file], check=True)
        with alexnet.Network("torchvision", num_classes=classes, seed=3) as net:
            net.load_weights(canonical_file)
            assert_same_logits(net, model, 224, "converted with canonical names")
    print("safetensors interoperability: all checks passed")


if __name__ == "__main__":
    main()
