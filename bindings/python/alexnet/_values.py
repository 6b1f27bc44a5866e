"""Checks and conversions of the plain values the wrappers pass to the library: enumerations by
name, seeds, labels. A value the C side would silently wrap around or truncate is refused here
with an exception that says what was expected."""
import numbers

import numpy as np

from ._errors import INVALID_ARGUMENT, SHAPE, InvalidArgumentError, ShapeError

UINT64_LIMIT = 2 ** 64


def enum_code(value, names, what):
    """The code of `value`: one of the names (any case) or an int that is one of the codes."""
    if isinstance(value, str):
        if value.lower() not in names:
            raise ValueError(f"{what} must be one of {sorted(names)}, not {value!r}")
        return names[value.lower()]
    code = integer(value, what)
    if code not in names.values():
        raise ValueError(f"{what} must be one of {sorted(names)} (or codes "
                         f"{sorted(names.values())}), not {value!r}")
    return code


def name_of(value, names):
    return next((name for name, code in names.items() if code == value), value)


def integer(value, what):
    """A Python int from an int-like value (int, numpy integer); bools, floats and strings are
    refused rather than truncated or parsed."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an integer, not {value!r}")
    return int(value)


def seed(value):
    """A seed: an integer in [0, 2**64), as the library's uint64_t takes it."""
    value = integer(value, "seed")
    if not 0 <= value < UINT64_LIMIT:
        raise InvalidArgumentError(INVALID_ARGUMENT, f"seed must be in [0, 2**64), not {value}")
    return value


def labels(values, batch, classes):
    """Labels as a C-contiguous int32 array: exactly `batch` integers, each in [0, classes)."""
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers (one class index per image), not an array of "
                        f"{array.dtype}")
    if array.shape != (batch,):
        raise ShapeError(SHAPE, f"labels must have shape ({batch},) for a batch of {batch}, "
                                f"not {array.shape}: one label per image")
    bad = np.flatnonzero((array < 0) | (array >= classes))
    if bad.size:
        raise InvalidArgumentError(
            INVALID_ARGUMENT, f"label {array[bad[0]]} (at index {bad[0]}) is out of range; "
                              f"labels must be in [0, {classes})")
    return np.ascontiguousarray(array, dtype=np.int32)
