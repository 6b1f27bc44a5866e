#!/bin/sh
# The shared library's ABI against the committed baseline (abi/libalexnet.abi), with libabigail:
#   - the same SONAME: new functions pass (a MINOR release adds them); any other difference —
#     a removed function, a changed signature or struct layout — fails until it is reviewed and
#     the baseline regenerated on purpose (with a MAJOR bump when it breaks callers);
#   - another SONAME (MAJOR bumped): fails until the baseline is regenerated.
set -eu
lib=$1
src=$2
baseline="$src/abi/libalexnet.abi"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -f "$baseline" ] || { echo "no ABI baseline at $baseline: run scripts/update-abi-baseline.sh"; exit 1; }

soname=$(objdump -p "$lib" | awk '/SONAME/ { print $2 }')
baseline_soname=$(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$baseline" | head -n 1)
if [ "$soname" != "$baseline_soname" ]; then
    echo "the library is $soname but the ABI baseline is for $baseline_soname:"
    echo "a MAJOR version bump must come with a new baseline (scripts/update-abi-baseline.sh)"
    exit 1
fi

abidw --headers-dir "$src/include/alexnet" --drop-private-types --drop-undefined-syms --no-corpus-path --no-comp-dir-path \
    --out-file "$tmp/current.abi" "$lib"
status=0
abidiff --no-added-syms --suppressions "$src/abi/suppressions.abignore" "$baseline" "$tmp/current.abi" >"$tmp/report.txt" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    cat "$tmp/report.txt"
    echo "the ABI of $soname differs from the baseline (abidiff status $status; functions added"
    echo "are not counted). A change callers compiled against the baseline could break on needs"
    echo "ALEXNET_VERSION_MAJOR bumped; either way, once reviewed, record it on purpose with"
    echo "scripts/update-abi-baseline.sh (README: Versioning)."
    exit 1
fi
echo "ABI of $soname matches the baseline (added functions aside)"
