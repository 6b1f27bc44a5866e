#!/bin/sh
# Without the Check framework (and without MPI), configuring still succeeds: the tests are turned
# off with a message that says so, and the library builds. pkg-config is pointed at a copy of the
# system's .pc directories that lacks check.pc.
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/pc"
for dir in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
    [ -d "$dir" ] || continue
    for pc in "$dir"/*.pc; do
        [ -e "$pc" ] || continue
        name=$(basename "$pc")
        [ "$name" = check.pc ] || [ -e "$tmp/pc/$name" ] || ln -s "$pc" "$tmp/pc/$name"
    done
done
PKG_CONFIG_LIBDIR="$tmp/pc" cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_DISABLE_FIND_PACKAGE_MPI=TRUE \
    >"$tmp/configure.txt" 2>&1 || { cat "$tmp/configure.txt"; exit 1; }
grep -q "Check unit-test framework" "$tmp/configure.txt" ||
    { cat "$tmp/configure.txt"; echo "no message about the missing Check"; exit 1; }
grep -q "tests are off" "$tmp/configure.txt"
# Nor is MPI needed: without it there is no libalexnet_mpi, and a message says so.
grep -q "MPI not found (Debian: libopenmpi-dev), so no libalexnet_mpi" "$tmp/configure.txt"
PKG_CONFIG_LIBDIR="$tmp/pc" cmake --build "$tmp/build" --target alexnet alexnet_static -j 2 >/dev/null
[ -e "$tmp/build/lib/libalexnet.so.1" ] || { echo "the library was not built"; exit 1; }
[ ! -e "$tmp/build/tests" ] || { echo "the tests were configured without Check"; exit 1; }
echo "configured and built without Check: tests off, with a message"
