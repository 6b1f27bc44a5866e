#!/bin/sh
# Installs the build into a temporary prefix and builds the README's C examples against it: the
# quick start four ways — pkg-config (shared and static) and find_package(alexnet)
# (alexnet::alexnet and alexnet::alexnet_static) — and the training loop. Each program must run
# and succeed.
set -eu
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
pcfile=$(find "$prefix" -name alexnet.pc)
[ -n "$pcfile" ] || { echo "alexnet.pc was not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pcfile")")
export PKG_CONFIG_PATH="$libdir/pkgconfig"

"$src/tests/extract_readme_block.sh" "$src/README.md" quickstart >"$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "README has no quickstart example"; exit 1; }

echo "== pkg-config, shared"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$tmp/example.c" -o "$tmp/pc_shared" \
    $(pkg-config --cflags --libs alexnet) -Wl,-rpath,"$libdir"
"$tmp/pc_shared"
ldd "$tmp/pc_shared" | grep -q "libalexnet.so" || { echo "not linked to the shared library"; exit 1; }

echo "== pkg-config, static"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$tmp/example.c" -o "$tmp/pc_static" \
    $(pkg-config --static --cflags --libs alexnet | sed 's/-lalexnet\b/-l:libalexnet.a/')
"$tmp/pc_static"
if ldd "$tmp/pc_static" | grep -q "libalexnet.so"; then
    echo "the static link still needs libalexnet.so"; exit 1
fi

echo "== README training loop (pkg-config, shared)"
"$src/tests/extract_readme_block.sh" "$src/README.md" training-loop >"$tmp/train.c"
[ -s "$tmp/train.c" ] || { echo "README has no training-loop example"; exit 1; }
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$tmp/train.c" -o "$tmp/train" \
    $(pkg-config --cflags --libs alexnet) -Wl,-rpath,"$libdir"
(cd "$tmp" && ./train && test -s mini-checkpoint.safetensors)

echo "== find_package(alexnet)"
mkdir -p "$tmp/cmake-src"
cp "$tmp/example.c" "$tmp/cmake-src/example.c"
cat >"$tmp/cmake-src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(alexnet_consumer C)
find_package(alexnet 1 REQUIRED)
add_executable(example_shared example.c)
target_link_libraries(example_shared PRIVATE alexnet::alexnet)
add_executable(example_static example.c)
target_link_libraries(example_static PRIVATE alexnet::alexnet_static)
CMAKE
cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$tmp/cmake-build/example_shared"
"$tmp/cmake-build/example_static"
echo "installed library consumed through pkg-config and CMake, shared and static"
