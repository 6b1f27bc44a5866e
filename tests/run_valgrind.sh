#!/bin/sh
# Valgrind memcheck over the suites that finish under it in reasonable time — their fast test
# cases (CK_EXCLUDE_TAGS=slow leaves out big networks, training and many threads) — and over
# every fuzz target's regression inputs and seeds: no invalid access, no use of uninitialised memory
# (valgrind sees what reaches pixels and files, which the sanitizers do not), no definite leak.
# Usage: tests/run_valgrind.sh BUILD_DIR
set -eu
build=$1
cd "$(dirname "$0")/.."
export CK_EXCLUDE_TAGS=slow ALEXNET_UNDER_VALGRIND=1 CK_DEFAULT_TIMEOUT=1200
memcheck() {
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite "$@"
}
for suite in tensor serialize images datasets hostile_models serving; do
    echo "valgrind: test_$suite"
    memcheck "$build/tests/test_$suite"
done
for target in image idx metadata model; do
    echo "valgrind: fuzz_${target} regressions and seeds"
    memcheck "$build/fuzz/fuzz_${target}_replay" "fuzz/regressions/$target" \
        "$build/fuzz/seeds/$target"
done
echo "valgrind: no errors"
