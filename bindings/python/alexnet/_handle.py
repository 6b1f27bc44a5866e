"""Native handles and the numpy arrays that look into their memory.

A NativeHandle owns one C object and frees it when the last Python reference to it goes. Wrapper
classes drop their reference on close(); numpy views of the object's memory hold one too, so the
memory a view shows is never freed under it: closing is immediate for the API (later calls
raise), and the memory goes when the last view does.
"""
import ctypes

import numpy as np

from ._native import c_float, c_float_p, c_int64, lib
from ._errors import check, closed


class NativeHandle:
    def __init__(self, pointer, free, keep=()):
        self.pointer = pointer
        self._free = free
        self._keep = keep  # handles this one depends on, kept alive as long as it is

    def __del__(self):
        if self.pointer:
            self._free(self.pointer)
            self.pointer = None


class Owned:
    """Base of the wrapper classes: one NativeHandle, released by close(), by leaving a `with`
    block, or by the garbage collector; after close() every call raises StateError."""

    _what = "handle"
    _native = None

    def close(self):
        self._native = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _ptr(self):
        if self._native is None:
            raise closed(self._what)
        return self._native.pointer


def float_view(address, shape, owner):
    """A numpy float32 array over native memory at `address`, keeping `owner` alive."""
    count = int(np.prod(shape)) if len(shape) else 1
    buffer = (c_float * count).from_address(address)
    buffer._alexnet_owner = owner
    return np.frombuffer(buffer, dtype=np.float32, count=count).reshape(shape)


def tensor_view(tensor, owner):
    """A numpy view of an alexnet_tensor's storage."""
    ndim = lib.alexnet_tensor_ndim(tensor)
    shape = tuple(lib.alexnet_tensor_dim(tensor, axis) for axis in range(ndim))
    address = ctypes.cast(lib.alexnet_tensor_data(tensor), ctypes.c_void_p).value
    return float_view(address, shape, owner)


class WrappedArray:
    """An alexnet_tensor over a C-contiguous float32 numpy array (no copy), for one call."""

    def __init__(self, array):
        self.array = array
        shape = (c_int64 * array.ndim)(*array.shape)
        self.pointer = ctypes.c_void_p()
        check(lib.alexnet_tensor_wrap(ctypes.byref(self.pointer), array.ndim, shape,
                                      array.ctypes.data_as(c_float_p)))

    def __enter__(self):
        return self.pointer

    def __exit__(self, *exc):
        lib.alexnet_tensor_free(self.pointer)
        self.pointer = None


def as_float32(array, name):
    """A C-contiguous, aligned, native-order float32 array: the argument itself when it already is
    one (zero copy), otherwise a converted copy (another dtype or byte order, a strided view, or a
    buffer that does not start on a 4-byte boundary)."""
    array = np.asarray(array)
    if array.dtype != np.float32 or not (array.flags.c_contiguous and array.flags.aligned):
        array = np.array(array, dtype=np.float32, order="C", copy=True)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    return array


def owned_tensor(pointer):
    """Takes ownership of an alexnet_tensor the library created and returns it as a numpy array
    (the array keeps the tensor alive)."""
    handle = NativeHandle(pointer, lib.alexnet_tensor_free)
    return tensor_view(pointer, handle)
