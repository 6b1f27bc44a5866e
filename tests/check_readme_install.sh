#!/bin/sh
# The README's "Building and installing" and Python install blocks, run as written in a copy of the
# source tree: setup, configure, build, install (DESTDIR stages the install in a scratch
# directory, and a `sudo` that runs its command stands in where sudo is absent or unwanted), then
# pip into a venv made with --system-site-packages and the CMake python component. The staged
# files must be there, and the pip-installed package must load the staged library from any
# directory.
set -eu
src=$1
python=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$tmp/tree")
else # a source tarball: everything but build directories
    (cd "$src" && find . -path './build*' -prune -o -type f -print0 | xargs -0 cp --parents -t "$tmp/tree")
fi
export DESTDIR="$tmp/stage"
"$src/tests/extract_readme_block.sh" "$src/README.md" build-install >"$tmp/build.sh"
"$src/tests/extract_readme_block.sh" "$src/README.md" python-install >"$tmp/python.sh"
[ -s "$tmp/build.sh" ] && [ -s "$tmp/python.sh" ] || { echo "README lacks an install block"; exit 1; }

echo "== README: building and installing, as written"
(cd "$tmp/tree" && { echo 'sudo() { "$@"; }'; cat "$tmp/build.sh"; } | sh -eu) >"$tmp/build.log" 2>&1 ||
    { tail -n 40 "$tmp/build.log"; exit 1; }
for f in lib/libalexnet.so.1 lib/libalexnet.a include/alexnet/alexnet.h include/alexnet/alexnet.hpp \
    lib/pkgconfig/alexnet.pc lib/pkgconfig/alexnet-static.pc bin/alexnet-classify \
    bin/alexnet-convert-onnx lib/cmake/alexnet/alexnetConfig.cmake; do
    [ -e "$DESTDIR/usr/local/$f" ] || { echo "the README's install left no /usr/local/$f"; exit 1; }
done

echo "== README: the Python install, as written (in a venv)"
"$python" -m venv --system-site-packages "$tmp/venv"
export ALEXNET_LIBRARY_DIR="$DESTDIR/usr/local/lib" # where pkg-config would point after a real install
(cd "$tmp/tree" && PATH="$tmp/venv/bin:$PATH" sh -eu "$tmp/python.sh") >"$tmp/python.log" 2>&1 ||
    { tail -n 40 "$tmp/python.log"; exit 1; }
[ -e "$DESTDIR/usr/local/lib/python3.11/dist-packages/alexnet/__init__.py" ] ||
    [ -n "$(find "$DESTDIR/usr/local/lib" -path '*-packages/alexnet/__init__.py')" ] ||
    { echo "cmake --install --component python installed no package"; exit 1; }
cd "$tmp" && env -u ALEXNET_LIBRARY "$tmp/venv/bin/python" -c '
import alexnet, sys
assert alexnet.__file__.startswith(sys.prefix), alexnet.__file__
print("pip-installed alexnet", alexnet.version(), "from", alexnet.__file__)'
echo "the README's build, install and Python install blocks ran as written"
