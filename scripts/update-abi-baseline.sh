#!/bin/sh
# Records the shared library's ABI as the committed baseline (abi/libalexnet.abi), with
# libabigail's abidw. Run it on purpose: after a release that added functions, or together with
# a MAJOR version bump that breaks compatibility (tests/check_abi.sh explains which).
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target alexnet >/dev/null
lib=$(readlink -f build/lib/libalexnet.so)
abidw --headers-dir include/alexnet --drop-private-types --drop-undefined-syms --no-corpus-path --no-comp-dir-path --out-file abi/libalexnet.abi "$lib"
echo "wrote abi/libalexnet.abi from $lib"
