"""One exception class per alexnet_status, all under AlexnetError; each also derives from the
built-in exception a Python programmer would reach for (ValueError, OSError, ...)."""
import enum

from ._native import lib


class Status(enum.IntEnum):
    """alexnet_status: the code every library call returns (OK is 0)."""
    OK = 0
    INVALID_ARGUMENT = 1
    SHAPE = 2
    OUT_OF_MEMORY = 3
    IO = 4
    FORMAT = 5
    NUMERIC = 6
    STATE = 7
    INTERNAL = 8


OK, INVALID_ARGUMENT, SHAPE, OUT_OF_MEMORY, IO, FORMAT, NUMERIC, STATE, INTERNAL = Status


class AlexnetError(Exception):
    """A libalexnet call failed: `status` is the alexnet_status (a Status, an IntEnum), `message`
    the library's alexnet_last_error() sentence."""

    def __init__(self, status, message):
        super().__init__(message)
        try:
            self.status = Status(status)
        except ValueError:  # a newer library's code: keep the number
            self.status = status
        self.message = message


class InvalidArgumentError(AlexnetError, ValueError):
    pass


class ShapeError(AlexnetError, ValueError):
    pass


class OutOfMemoryError(AlexnetError, MemoryError):
    pass


class FileError(AlexnetError, OSError):
    pass


class FormatError(AlexnetError, ValueError):
    pass


class NumericError(AlexnetError, ArithmeticError):
    pass


class StateError(AlexnetError, RuntimeError):
    pass


class InternalError(AlexnetError, RuntimeError):
    pass


_CLASSES = {INVALID_ARGUMENT: InvalidArgumentError, SHAPE: ShapeError,
            OUT_OF_MEMORY: OutOfMemoryError, IO: FileError, FORMAT: FormatError,
            NUMERIC: NumericError, STATE: StateError, INTERNAL: InternalError}


def check(status):
    """Raises the exception for a non-OK status, with the library's message."""
    if status != OK:
        message = lib.alexnet_last_error().decode("utf-8", "replace")
        raise _CLASSES.get(status, AlexnetError)(status, message)


def closed(what):
    return StateError(STATE, f"the {what} has been closed")
