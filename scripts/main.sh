#!/usr/bin/env bash
# The main job: installs the dependencies, builds descent in Release and trains the example
# network (XOR, a 2-4-1 network trained by full-batch gradient descent through the autograd).
# Until the command-line trainer exists, this example is the main job.
#
#   bash scripts/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_TESTS=OFF
cmake --build build -j"$JOBS" --target xor
./build/examples/xor
