#!/bin/sh
# Installs the build into a temporary prefix and builds the host programs against it, as a user
# of the installed library would:
#   - the README's C quick start: pkg-config (shared, and static through alexnet-static.pc) and
#     find_package(alexnet) (alexnet::alexnet and alexnet::alexnet_static);
#   - the README's prefix install, its commands run as written;
#   - the README's training loop (pkg-config);
#   - examples/pkgconfig_host (its Makefile uses nothing but pkg-config);
#   - examples/cmake_host (find_package), with the C++ host and its RAII wrapper;
#   - the README's Python quick start and examples/python_train_classify.py, with the installed
#     library (ALEXNET_LIBRARY).
# Each program must run and succeed.
set -eu
src=$1
build=$2
python=$3
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

echo "== installed programs: alexnet-classify (found through its rpath) and the converters"
if [ -x "$prefix/bin/alexnet-classify" ]; then
    env -u LD_LIBRARY_PATH "$prefix/bin/alexnet-classify" --help | grep -q "^usage: alexnet-classify"
else
    echo "bin/alexnet-classify was not installed"; exit 1
fi

for tool in alexnet-convert-torchvision alexnet-convert-onnx alexnet-export-onnx; do
    [ -x "$prefix/bin/$tool" ] || { echo "$tool was not installed"; exit 1; }
    "$prefix/bin/$tool" --help | grep -q "usage: $tool"
done

echo "== manual pages (help2man)"
if command -v help2man >/dev/null; then
    for page in alexnet-classify alexnet-convert-torchvision alexnet-convert-onnx alexnet-export-onnx; do
        file=$(find "$prefix" -path "*/man1/$page.1")
        [ -n "$file" ] || { echo "no manual page $page.1 was installed"; exit 1; }
        grep -q "^\.SH DESCRIPTION" "$file" || { echo "$file is not a manual page"; exit 1; }
    done
    grep -q 'accuracy of the centre crop over a folder' "$(find "$prefix" -path '*/man1/alexnet-classify.1')"
fi

echo "== pkg-config, static (alexnet-static.pc)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$tmp/example.c" -o "$tmp/pc_static" \
    $(pkg-config --cflags --libs alexnet-static)
"$tmp/pc_static"
if ldd "$tmp/pc_static" | grep -q "libalexnet.so"; then
    echo "the static link still needs libalexnet.so"; exit 1
fi

echo "== README: installing into a prefix, as written (HOME is a scratch directory)"
mkdir -p "$tmp/readme-prefix/home"
"$src/tests/extract_readme_block.sh" "$src/README.md" prefix-install >"$tmp/readme-prefix/run.sh"
[ -s "$tmp/readme-prefix/run.sh" ] || { echo "README has no prefix-install block"; exit 1; }
cp "$tmp/example.c" "$tmp/readme-prefix/app.c"
ln -s "$(cd "$build" && pwd)" "$tmp/readme-prefix/build"
(cd "$tmp/readme-prefix" && env -u PKG_CONFIG_PATH HOME="$tmp/readme-prefix/home" sh -eu run.sh)
if ldd "$tmp/readme-prefix/app-static" | grep -q "libalexnet.so"; then
    echo "the README's static link still needs libalexnet.so"; exit 1
fi

echo "== README training loop (pkg-config, shared)"
"$src/tests/extract_readme_block.sh" "$src/README.md" training-loop >"$tmp/train.c"
[ -s "$tmp/train.c" ] || { echo "README has no training-loop example"; exit 1; }
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror "$tmp/train.c" -o "$tmp/train" \
    $(pkg-config --cflags --libs alexnet) -Wl,-rpath,"$libdir"
(cd "$tmp" && ./train && test -s mini-checkpoint.safetensors)

echo "== examples/pkgconfig_host (Makefile, pkg-config only)"
cp -r "$src/examples/pkgconfig_host" "$tmp/pkgconfig_host"
make -s -C "$tmp/pkgconfig_host"
"$tmp/pkgconfig_host/pkgconfig_host"

echo "== find_package(alexnet): README quick start, examples/cmake_host, the C++ host"
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
cmake -S "$src/examples/cmake_host" -B "$tmp/host-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/host-build" >/dev/null
(cd "$tmp" && "$tmp/host-build/cmake_host" && "$tmp/host-build/cmake_host_static" &&
    "$tmp/host-build/cpp_host")
echo "== Python: README quick start and examples/python_train_classify.py"
export ALEXNET_LIBRARY="$libdir/libalexnet.so"
"$src/tests/extract_readme_block.sh" "$src/README.md" python-quickstart >"$tmp/quickstart.py"
[ -s "$tmp/quickstart.py" ] || { echo "README has no Python quick start"; exit 1; }
(cd "$tmp" && PYTHONPATH="$src/bindings/python" "$python" quickstart.py)
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
(cd "$tmp" && "$python" "$src/examples/python_train_classify.py" --data "$data" --steps 150 \
    --out "$tmp/python-run")
echo "installed library used from C, C++ and Python; through pkg-config and CMake; shared and static"
