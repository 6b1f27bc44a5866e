#!/bin/sh
# The shared library exports only alexnet_* symbols, and the static archive defines no other
# global symbol (internal ones are localized so they cannot clash with a host's).
set -eu
shared=$1
static=$2
bad=$(nm -D --defined-only "$shared" | awk 'NF == 3 { print $3 }' | grep -v '^alexnet_' || true)
if [ -n "$bad" ]; then
    echo "the shared library exports symbols outside alexnet_*:"; echo "$bad"; exit 1
fi
count=$(nm -D --defined-only "$shared" | grep -c ' alexnet_')
[ "$count" -gt 0 ] || { echo "no alexnet_* symbol exported"; exit 1; }
bad=$(nm -g --defined-only "$static" | awk 'NF == 3 { print $3 }' | grep -v '^alexnet_' || true)
if [ -n "$bad" ]; then
    echo "the static archive defines global symbols outside alexnet_*:"; echo "$bad"; exit 1
fi
soname=$(objdump -p "$shared" | awk '/SONAME/ { print $2 }')
case "$soname" in
    libalexnet.so.[0-9]*) ;;
    *) echo "unexpected SONAME '$soname'"; exit 1 ;;
esac
echo "$count alexnet_* symbols exported; SONAME $soname; static archive clean"
