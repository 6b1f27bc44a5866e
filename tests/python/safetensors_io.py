"""A minimal safetensors reader and writer, independent of libalexnet: what the tests use to look
inside the library's files and to write files as a PyTorch user would."""
import json
import struct

import numpy as np


def read_safetensors(path):
    """A minimal, independent reader: (metadata, {name: array})."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
    return metadata, tensors


def write_safetensors(path, tensors):
    """An independent writer, as a PyTorch user would produce: torchvision keys, no metadata,
    tensors in reverse order (data order need not follow our parameter order)."""
    header, offset, chunks = {}, 0, []
    for name, array in reversed(list(tensors.items())):
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
