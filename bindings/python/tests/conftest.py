"""Makes the package importable from the source tree (bindings/python) without installing."""
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
