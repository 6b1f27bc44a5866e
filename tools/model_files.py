"""What the converters in tools/ share: class names, the layer sequence of each libalexnet
architecture that has an ONNX form, and reading and writing libalexnet's safetensors files in
plain Python (numpy only)."""
import json
import struct
import sys

import numpy as np

# Per convolution stage: (out channels, kernel, stride, pad, groups, LRN after, max pool after),
# as lib/arch.c builds them (docs/architectures.md).
ARCHS = {
    "paper": {
        "side": 227, "hidden": 4096,
        "convs": [(96, 11, 4, 0, 1, True, True), (256, 5, 1, 2, 2, True, True),
                  (384, 3, 1, 1, 1, False, False), (384, 3, 1, 1, 2, False, False),
                  (256, 3, 1, 1, 2, False, True)],
    },
    "torchvision": {
        "side": 224, "hidden": 4096,
        "convs": [(64, 11, 4, 2, 1, False, True), (192, 5, 1, 2, 1, False, True),
                  (384, 3, 1, 1, 1, False, False), (256, 3, 1, 1, 1, False, False),
                  (256, 3, 1, 1, 1, False, True)],
    },
}
# The local response normalisation of PAPER, in ONNX's (and PyTorch's) convention, where alpha
# is divided by the window size: the paper's k = 2, n = 5, alpha = 1e-4, beta = 0.75.
PAPER_LRN = {"size": 5, "alpha": 5e-4, "beta": 0.75, "bias": 2.0}
POOL_KERNEL, POOL_STRIDE = 3, 2
LAYERS = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
TORCH_KEYS = {"features.0": "conv1", "features.3": "conv2", "features.6": "conv3",
              "features.8": "conv4", "features.10": "conv5", "classifier.1": "fc6",
              "classifier.4": "fc7", "classifier.6": "fc8"}


def class_names(path, classes):
    """The class names to store: from `path` (one per line), torchvision's 1,000 ImageNet
    categories (offline, from Debian's torchvision) for a 1,000-class network, or None."""
    if path:
        with open(path, encoding="utf-8") as f:
            names = [line.rstrip("\n") for line in f if line.strip()]
        if len(names) != classes:
            sys.exit(f"{path}: {len(names)} names for a network of {classes} classes")
        return names
    if classes != 1000:
        return None
    from torchvision.models import AlexNet_Weights
    return list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


# The preprocessing each source of weights was trained with, as "alexnet.preprocessing" records
# it (alexnet_preprocessing_init's kinds): torchvision's and Caffe's.
PREPROCESSING = {
    "plain": {"resize": "none", "side": 0, "channels": "rgb", "scale": 1.0,
              "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
    "imagenet": {"resize": "shorter", "side": 256, "channels": "rgb", "scale": 1.0,
                 "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
    "caffe": {"resize": "square", "side": 256, "channels": "bgr", "scale": 255.0,
              "mean": [104.00698793, 116.66876762, 122.67891434], "std": [1.0, 1.0, 1.0]},
}


def default_preprocessing(config):
    """What libalexnet uses for a network whose file records no preprocessing
    (alexnet_network_get_preprocessing): ImageNet's at 8/7 of the input side for RGB."""
    side = max(config["in_height"], config["in_width"])
    if config["in_channels"] == 3:
        return dict(PREPROCESSING["imagenet"], side=side * 8 // 7)
    return dict(PREPROCESSING["plain"], resize="shorter", side=side)


def feature_side(arch, side, pool_ceil=0, pool_size=POOL_KERNEL):
    """The side of the feature map after conv5's pooling, for a square input of `side`."""
    for _, kernel, stride, pad, _, _, pool in ARCHS[arch]["convs"]:
        side = (side + 2 * pad - kernel) // stride + 1
        if pool:
            side = (side - pool_size + (POOL_STRIDE - 1 if pool_ceil else 0)) // POOL_STRIDE + 1
    return side


def make_config(arch, num_classes, height=None, width=None, pool_ceil=0, lrn=None,
                activation="relu", pool_size=POOL_KERNEL):
    """The "alexnet.config" of a network, as lib/metadata.c writes it; lrn is {"size", "alpha",
    "beta", "k"} (PyTorch's convention) where it differs from the paper's, or False where an
    architecture's LRN is switched off."""
    config = {"arch": arch, "in_channels": 3, "in_height": height or ARCHS[arch]["side"],
              "in_width": width or ARCHS[arch]["side"], "num_classes": int(num_classes),
              "dropout": 0.5, "init": "paper"}
    paper_lrn = {"size": PAPER_LRN["size"], "alpha": PAPER_LRN["alpha"],
                 "beta": PAPER_LRN["beta"], "k": PAPER_LRN["bias"]}
    has_lrn = any(stage[5] for stage in ARCHS[arch]["convs"])
    if lrn is not False:
        lrn = dict(paper_lrn, **(lrn or {}))
    if pool_ceil or activation != "relu" or pool_size != POOL_KERNEL or \
            (has_lrn and lrn != paper_lrn):  # format 2, as lib/serialize.c writes it
        config["pool_ceil"] = int(pool_ceil)
        config["pool_size"] = int(pool_size)
        config["activation"] = activation
        if has_lrn:
            config["lrn"] = lrn
    return config


def model_metadata(config, classes=None, preprocessing=None):
    """The libalexnet metadata of a model file."""
    metadata = {"alexnet.format": "2" if "pool_ceil" in config else "1",
                "alexnet.config": json.dumps(config), "alexnet.seed": "0", "alexnet.step": "0"}
    if classes is not None:
        metadata["alexnet.classes"] = json.dumps(list(classes))
    if preprocessing is not None:
        metadata["alexnet.preprocessing"] = json.dumps(preprocessing)
    return metadata


def write_safetensors(path, tensors, metadata):
    """tensors: name -> array, written as float32 in the given order."""
    header = {"__metadata__": metadata} if metadata else {}
    offset, arrays = 0, []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        arrays.append(array)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for array in arrays:
            f.write(array.tobytes())


def write_model(path, config, weights, classes=None, preprocessing=None):
    """A libalexnet model file: weights maps canonical names (conv1.weight ...) to arrays."""
    tensors = {f"{layer}.{kind}": weights[f"{layer}.{kind}"]
               for layer in LAYERS for kind in ("weight", "bias")}
    write_safetensors(path, tensors, model_metadata(config, classes, preprocessing))


def read_model(path):
    """(config dict, {canonical name: float32 array}, metadata) of a libalexnet model file."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    if "alexnet.config" not in metadata:
        raise ValueError(f"{path} has no libalexnet configuration (alexnet.config)")
    config = json.loads(metadata["alexnet.config"])
    weights = {}
    for name, info in header.items():
        if info["dtype"] != "F32" or name.startswith("optimizer."):
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
        layer, kind = name.rsplit(".", 1)
        weights[f"{TORCH_KEYS.get(layer, layer)}.{kind}"] = array.astype(np.float32)
    return config, weights, metadata
