#!/bin/sh
# The README's test command: installs what is missing, builds with warnings as errors, and runs
# every test — the Check suites and integration checks (CTest), the fast suites and the fuzz
# regression inputs under valgrind memcheck, the Check suites again under AddressSanitizer +
# UndefinedBehaviorSanitizer, the concurrent-inference suite under ThreadSanitizer, and every fuzz
# target for ALEXNET_FUZZ_SECONDS (default 45) each.
set -eu
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (Release, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DALEXNET_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
# A test that times out runs once more (see the serving suite in tests/CMakeLists.txt); a test that
# fails is not repeated.
ctest --test-dir build --output-on-failure -j "$jobs" --repeat after-timeout:2

echo "== tests under valgrind (memcheck)"
tests/run_valgrind.sh build

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALEXNET_WERROR=ON \
    -DALEXNET_SANITIZE=ON -DALEXNET_BUILD_EXAMPLES=OFF -DALEXNET_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests under sanitizers"
ctest --test-dir build-asan --output-on-failure -j "$jobs" -L unit

echo "== build (ThreadSanitizer: the concurrent-inference suite)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALEXNET_WERROR=ON \
    -DALEXNET_TSAN=ON -DALEXNET_BUILD_EXAMPLES=OFF -DALEXNET_BUILD_BENCH=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target test_serving
echo "== tests under ThreadSanitizer"
ctest --test-dir build-tsan --output-on-failure -L threads

./scripts/fuzz.sh "${ALEXNET_FUZZ_SECONDS:-45}"

echo "== all tests passed"
