"""libalexnet for Python: AlexNet (Krizhevsky, Sutskever, Hinton, 2012) through ctypes and numpy.

    import alexnet
    net = alexnet.Network("mini", seed=1)             # or "paper", "torchvision"
    opt = alexnet.SGD(net, lr=0.01)
    loss = opt.train_step(images, labels)             # float32 [N, C, H, W], int [N]
    probabilities = net.predict(images)
    net.save("model.safetensors")

Every failure of the library raises an AlexnetError subclass carrying the status code and the
library's message. Handles close deterministically as context managers or with close(), and
otherwise when collected; a closed handle raises instead of crashing.
"""
import ctypes

from ._data import (Dataset, Loader, color_jitter, color_pca_fit, crop, decode_image, flip,
                    load_image, normalize, preprocess, preprocessing, resize, resize_shorter,
                    save_png)
from ._errors import (AlexnetError, FileError, FormatError, InternalError, InvalidArgumentError,
                      NumericError, OutOfMemoryError, ShapeError, StateError, Status)
from ._native import Limits as _Limits, lib as _lib
from ._network import Network
from ._training import SGD, load_checkpoint, save_checkpoint
from ._errors import check as _check
from . import _values

__all__ = ["Network", "SGD", "Dataset", "Loader", "save_checkpoint", "load_checkpoint",
           "load_image", "decode_image", "save_png", "resize", "resize_shorter", "crop", "flip",
           "normalize", "color_pca_fit", "color_jitter", "preprocessing", "preprocess",
           "set_num_threads", "get_num_threads", "get_limits", "set_limits", "reset_limits",
           "version", "Status", "AlexnetError",
           "InvalidArgumentError", "ShapeError", "OutOfMemoryError", "FileError", "FormatError",
           "NumericError", "StateError", "InternalError"]


def version():
    """The loaded library's version, e.g. "1.0.0"."""
    return _lib.alexnet_version_string().decode()


__version__ = version()


def set_num_threads(threads):
    """Threads for all of the library's work (0: one per available core)."""
    _check(_lib.alexnet_set_num_threads(_values.integer(threads, "threads")))


def get_num_threads():
    return _lib.alexnet_get_num_threads()


_LIMIT_FIELDS = [name for name, _ in _Limits._fields_ if name != "struct_size"]


def get_limits():
    """The process-wide limits on untrusted files, as a dict: max_model_bytes, max_dataset_bytes,
    max_image_bytes, max_image_pixels, max_image_side (SECURITY.md has their defaults)."""
    limits = _Limits()
    limits.struct_size = ctypes.sizeof(_Limits)
    _check(_lib.alexnet_limits_get(ctypes.byref(limits)))
    return {name: getattr(limits, name) for name in _LIMIT_FIELDS}


def set_limits(**changes):
    """Changes some limits for the whole process, keeping the others, e.g.
    set_limits(max_image_pixels=4096 * 4096). A value out of range raises InvalidArgumentError
    and changes nothing."""
    unknown = sorted(set(changes) - set(_LIMIT_FIELDS))
    if unknown:
        raise TypeError("unknown limit %s; the limits are %s" % (", ".join(unknown),
                                                                 ", ".join(_LIMIT_FIELDS)))
    values = get_limits()
    values.update({name: _values.integer(value, name) for name, value in changes.items()})
    limits = _Limits(ctypes.sizeof(_Limits), *[values[name] for name in _LIMIT_FIELDS])
    _check(_lib.alexnet_limits_set(ctypes.byref(limits)))


def reset_limits():
    """Restores the default limits."""
    _check(_lib.alexnet_limits_set(None))
