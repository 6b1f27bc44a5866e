#!/bin/sh
# The Python package's pytest suite against this build, and examples/python_serve.py (serving from a
# thread pool over one model; it fails if memory grows with the threads as if the weights were
# copied). The README's Python quick start and examples/python_train_classify.py run against an
# installed copy: tests/check_install.sh.
set -eu
src=$1
export ALEXNET_LIBRARY="$2"
python=$3
"$python" -m pytest -q -p no:cacheprovider "$src/bindings/python/tests"
"$python" "$src/examples/python_serve.py" --requests 8
