#!/usr/bin/python3
"""Converts a torchvision AlexNet checkpoint (.pth) to a safetensors file for libalexnet.

    /usr/bin/python3 tools/convert_torchvision.py alexnet-owt-7be5be79.pth alexnet.safetensors

The input may be a state_dict, a {"state_dict": ...} wrapper, or a pickled model. Tensors are
written as F32 under torchvision's keys (features.0.weight, ..., classifier.6.bias), which
alexnet_network_load_weights accepts; --canonical writes libalexnet's names (conv1.weight, ...)
instead. Unless --no-config is given, the file also carries the libalexnet metadata of a
TORCHVISION network (3 x 224 x 224, classes from classifier.6), so alexnet_network_load can
rebuild the network from the file alone, and the names of its classes: torchvision's 1,000
ImageNet categories for a 1,000-class network (from Debian's torchvision, offline), or one name per
line from --classes FILE, so that alexnet-classify prints names rather than numbers, and the
standard ImageNet preprocessing torchvision's weights expect (alexnet.preprocessing).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # also when run by a link
from model_files import (PREPROCESSING, class_names, make_config, model_metadata,  # noqa: E402
                         write_safetensors)

TORCH_TO_CANONICAL = {"features.0": "conv1", "features.3": "conv2", "features.6": "conv3",
                      "features.8": "conv4", "features.10": "conv5", "classifier.1": "fc6",
                      "classifier.4": "fc7", "classifier.6": "fc8"}


def state_dict_of(loaded):
    if isinstance(loaded, torch.nn.Module):
        return loaded.state_dict()
    if isinstance(loaded, dict) and "state_dict" in loaded:
        return loaded["state_dict"]
    return loaded


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pth")
    parser.add_argument("output")
    parser.add_argument("--canonical", action="store_true", help="write conv1.weight ... names")
    parser.add_argument("--no-config", action="store_true", help="write no libalexnet metadata")
    parser.add_argument("--classes", help="class names, one per line (default for 1,000 classes: "
                        "torchvision's ImageNet categories)")
    args = parser.parse_args()

    state = state_dict_of(torch.load(args.pth, map_location="cpu"))
    tensors = {}
    for layer in TORCH_TO_CANONICAL:
        for kind in ("weight", "bias"):
            key = f"{layer}.{kind}"
            if key not in state:
                sys.exit(f"{args.pth}: no tensor '{key}'; is this a torchvision AlexNet?")
            name = f"{TORCH_TO_CANONICAL[layer]}.{kind}" if args.canonical else key
            tensors[name] = state[key].detach().to(torch.float32).numpy()
    extra = sorted(set(state) - {f"{l}.{k}" for l in TORCH_TO_CANONICAL for k in ("weight", "bias")})
    if extra:
        sys.exit(f"{args.pth}: unexpected tensors {extra}; is this a torchvision AlexNet?")

    metadata = {}
    if not args.no_config:
        classes = int(tensors["fc8.bias" if args.canonical else "classifier.6.bias"].shape[0])
        metadata = model_metadata(make_config("torchvision", classes),
                                  class_names(args.classes, classes), PREPROCESSING["imagenet"])
    write_safetensors(args.output, tensors, metadata)
    print(f"wrote {len(tensors)} tensors to {args.output}")


if __name__ == "__main__":
    main()
