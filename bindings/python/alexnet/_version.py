"""The version of libalexnet this package was written for (checked against the project's
version by the tests)."""
__version__ = "1.1.0"
