#!/usr/bin/env bash
# The README's test command: installs dependencies, then builds and runs every test twice,
# once in a normal build (build/) and once with AddressSanitizer + UndefinedBehaviorSanitizer
# and leak checking (build-asan/). Safe to run twice; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh

jobs=${CASK_JOBS:-2}

echo "== normal build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASK_BUILD_TESTS=ON -DCASK_BUILD_EXAMPLES=ON -DCASK_BUILD_BENCH=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCASK_SANITIZE=ON -DCASK_BUILD_TESTS=ON -DCASK_BUILD_EXAMPLES=ON -DCASK_BUILD_BENCH=OFF
cmake --build build-asan -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/scripts/ubsan.supp"
ctest --test-dir build-asan --output-on-failure -j"$jobs"
echo "all tests passed (normal and sanitized builds)"
