#!/usr/bin/env bash
# Builds and runs descent's benchmarks (never part of the tests).
#
# What it does, and nothing else:
#   1. configures a Release build with -DDESCENT_BUILD_BENCHMARKS=ON in build-bench/ at the
#      repository root (tests and examples off; Google Benchmark and OpenBLAS must already be
#      installed: this script installs and downloads nothing);
#   2. builds descent_bench_matmul, descent_bench_elementwise, descent_bench_conv,
#      descent_bench_first_calls and descent_bench_mixed (-j2);
#   3. runs the three Google Benchmark programs with 5 repetitions, interleaved in random order (so
#      a burst of load from other processes does not fall on one benchmark only), and prints the
#      console results followed by each program's summary tables (medians): descent::matmul vs raw
#      cblas_sgemm/dgemm GFLOP/s with the overhead %, elementwise GB/s, the 1-thread vs
#      all-threads parallel-grain check, and conv2d GFLOP/s of descent (im2col + GEMM) vs a direct
#      kernel vs oneDNN (when built with libdnnl-dev) on the Fashion-MNIST CNN's layer shapes
#      (about 3 minutes);
#   4. runs descent_bench_first_calls at n = 512, 1024, 2048: the first 20 matmul calls of a fresh
#      process, one by one (time and page faults per call), the cold start the steady-state
#      benchmarks leave out;
#   5. runs descent_bench_mixed: 1000 steps of matmul 256x256 + add + relu on 64k elements, with 1
#      thread and every core, under the default OpenMP wait policy and under OMP_WAIT_POLICY=passive
#      (the two thread pools taking turns, as in a network).
#
# The epoch of CNN training against PyTorch is a separate command: bench/cnn_epoch.sh (minutes per epoch).
#
# Usage: bench/run.sh [extra Google Benchmark flags, passed to all three, e.g. --benchmark_filter=f32]
# Environment: BENCH_REPETITIONS (default 5), BUILD_DIR (default build-bench), JOBS (default 2),
#   BENCH_PREFIX (a command the benchmarks run under, e.g. "nice -n -20" or "taskset -c 1"; the
#   build is not run under it).
# Results are also written as JSON to $BUILD_DIR/bench/{matmul,elementwise,conv}.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-bench}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
reps="${BENCH_REPETITIONS:-5}"
jobs="${JOBS:-2}"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_BENCHMARKS=ON \
  -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF
cmake --build "$build" -j"$jobs" --target descent_bench_matmul descent_bench_elementwise descent_bench_conv \
  descent_bench_first_calls descent_bench_mixed
read -r -a prefix <<< "${BENCH_PREFIX:-}"

echo
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== date: $(date -u '+%Y-%m-%d %H:%M UTC')"

for bench in matmul elementwise conv; do
  echo
  echo "== descent_bench_$bench"
  "${prefix[@]}" "$build/bench/descent_bench_$bench" \
    --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$build/bench/$bench.json" --benchmark_out_format=json \
    "$@"
done

echo
echo "== descent_bench_first_calls"
for n in 512 1024 2048; do
  "${prefix[@]}" "$build/bench/descent_bench_first_calls" "$n" 20 1
done

echo
echo "== descent_bench_mixed"
"${prefix[@]}" "$build/bench/descent_bench_mixed"
OMP_WAIT_POLICY=passive "${prefix[@]}" "$build/bench/descent_bench_mixed"
