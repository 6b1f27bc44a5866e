#!/bin/sh
# Fuzzes every parser of untrusted input with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer: scripts/fuzz.sh [SECONDS [TARGET...]]
#   SECONDS  how long each target runs (default 60); as long as you like by hand
#   TARGET   image, idx, metadata, model (default: all)
# Each target starts from the seeds the build generates, the regression inputs in
# fuzz/regressions/TARGET/ and what earlier runs found (build-fuzz/corpus/TARGET/, kept between
# runs). A crash, leak, hang or broken property stops the run; the input is saved under
# build-fuzz/crashes/TARGET/, to be fixed and then kept as a regression input. Needs clang and
# libFuzzer (Debian: clang, libclang-rt-14-dev), which scripts/setup-debian.sh installs.
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-image idx metadata model}
build=build-fuzz

echo "== fuzz: build (clang, libFuzzer, ASan + UBSan)"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALEXNET_FUZZ=ON \
    -DALEXNET_SANITIZE=ON -DALEXNET_WERROR=ON -DALEXNET_BUILD_TESTS=OFF \
    -DALEXNET_BUILD_EXAMPLES=OFF -DALEXNET_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

summary=""
for target in $targets; do
    corpus="$build/corpus/$target"
    crashes="$build/crashes/$target"
    log="$build/fuzz-$target.log"
    mkdir -p "$corpus" "$crashes"
    echo "== fuzz: $target for ${seconds}s"
    status=0
    ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$crashes/" \
        "$corpus" "fuzz/regressions/$target" "$build/fuzz/seeds/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    size=$(find "$corpus" "fuzz/regressions/$target" "$build/fuzz/seeds/$target" -type f | wc -l)
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz: $target FAILED (status $status); the input is in $crashes/:"
        ls -l "$crashes"
        echo "fix the defect, then keep the input: cp $crashes/<file> fuzz/regressions/$target/"
        exit 1
    fi
    summary="$summary$target: ${runs:-?} executions, corpus of $size inputs, no crash
"
done
echo "== fuzz: summary"
printf '%s' "$summary"
