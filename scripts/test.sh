#!/usr/bin/env bash
# The test command: installs the dependencies, builds descent in Release and runs every test
# (unit, PyTorch reference, gradient checks, the downstream find_package project, the examples),
# then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the tests again.
#
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

bash scripts/install-deps.sh --browser

echo "== Release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDESCENT_ENABLE_SANITIZERS=ON -DCMAKE_CXX_FLAGS="-O1"
cmake --build build-asan -j"$JOBS"
# The package test installs and rebuilds a downstream project: the Release run covers it.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" -LE package
