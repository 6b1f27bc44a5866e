#!/bin/sh
# The Python package installed as a user would, against libalexnet installed into a prefix:
#   - pip install --no-build-isolation (offline, Debian's setuptools) into a venv made with
#     --system-site-packages, then the README's Python quick start from another directory, with
#     no ALEXNET_LIBRARY or PYTHONPATH: the package finds the library through the directory
#     recorded when it was built (pkg-config's);
#   - a wheel built with python3 -m build --no-isolation;
#   - cmake --install --component python, then the quick start with the package on PYTHONPATH.
# The package's version must be the project's.
set -eu
src=$1
build=$2
python=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset ALEXNET_LIBRARY PYTHONPATH 2>/dev/null || true
version=$(pkg-config --modversion alexnet)
grep -q "__version__ = \"$version\"" "$src/bindings/python/alexnet/_version.py" ||
    { echo "bindings/python/alexnet/_version.py is not the project's version $version"; exit 1; }
"$src/tests/extract_readme_block.sh" "$src/README.md" python-quickstart >"$tmp/quickstart.py"
mkdir "$tmp/elsewhere"

echo "== pip install into a venv (--system-site-packages, offline, no build isolation)"
"$python" -m venv --system-site-packages "$tmp/venv"
cp -r "$src/bindings/python" "$tmp/package" # pip and build write into the source tree
"$tmp/venv/bin/pip" install --quiet --no-build-isolation --no-index --no-deps "$tmp/package"
(cd "$tmp/elsewhere" && "$tmp/venv/bin/python" "$tmp/quickstart.py")
recorded=$("$tmp/venv/bin/python" -c "import alexnet._install as i; print(i.LIBRARY_DIR)")
[ "$recorded" = "$prefix/lib" ] || { echo "recorded '$recorded', not $prefix/lib"; exit 1; }
loaded=$(cd "$tmp/elsewhere" && "$tmp/venv/bin/python" -c "import alexnet; print(alexnet.__version__)")
[ "$loaded" = "$version" ] || { echo "the package loaded libalexnet $loaded"; exit 1; }

echo "== a wheel (python3 -m build --no-isolation --wheel)"
(cd "$tmp/package" && "$python" -m build --no-isolation --wheel --outdir "$tmp/dist" . >/dev/null)
ls "$tmp/dist"/alexnet-"$version"-*.whl

echo "== cmake --install --component python"
cmake --install "$build" --component python --prefix "$prefix" >/dev/null
package=$(find "$prefix" -type d -name alexnet -path '*dist-packages*')
(cd "$tmp/elsewhere" && PYTHONPATH=$(dirname "$package") "$python" "$tmp/quickstart.py")
echo "the Python package installs with pip, builds a wheel and installs with CMake"
