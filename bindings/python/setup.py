"""Build step of the `alexnet` package (pyproject.toml has the metadata): writes
alexnet/_install.py, which records the directory of the libalexnet this package was built for —
ALEXNET_LIBRARY_DIR if set, else what `pkg-config --variable=libdir alexnet` says — so that the
installed package finds the library from any directory without environment variables."""
import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py


def installed_library_dir():
    directory = os.environ.get("ALEXNET_LIBRARY_DIR")
    if not directory:
        try:
            result = subprocess.run(["pkg-config", "--variable=libdir", "alexnet"],
                                    capture_output=True, text=True, check=False)
        except OSError:
            return None
        directory = result.stdout.strip() if result.returncode == 0 else ""
    # alexnet.pc is relocatable (its prefix is relative to the file): record a plain path.
    return os.path.normpath(os.path.abspath(directory)) if directory else None


class BuildWithLibraryPath(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "alexnet", "_install.py")
        with open(target, "w", encoding="utf-8") as out:
            out.write('"""Written when the package was built: where libalexnet was installed."""\n')
            out.write(f"LIBRARY_DIR = {installed_library_dir()!r}\n")


setup(cmdclass={"build_py": BuildWithLibraryPath})
