#!/usr/bin/env bash
# The main job: installs the dependencies (Fashion-MNIST included, from Debian's
# dataset-fashion-mnist), builds the descent program in Release and trains the default model, a
# multilayer perceptron on Fashion-MNIST (examples/fashion_mnist_mlp.toml), printing its progress; the
# run folder (model, checkpoints, metrics, report.html) is named at the end.
#
#   bash scripts/main.sh                 # extra arguments go to `descent train`, e.g. --set training.epochs=3
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF
cmake --build build -j"$JOBS" --target descent_program
./build/cli/descent train examples/fashion_mnist_mlp.toml "$@"
