#!/usr/bin/env bash
# The MLP (784-256-128-10, ReLU, cross-entropy, Adam lr 1e-3), descent vs PyTorch, same network,
# initialization scheme, data, batch sizes, optimizer and threads, measured in one run (never part of
# the tests).
#
# What it does:
#   1. configures and builds descent_bench_mlp (bench/mlp_steps.cpp) in build-bench/ (Release,
#      benchmarks on, tests and examples off, -j2; installs and downloads nothing);
#   2. for each malloc setting (MALLOC) and each thread count T (arguments, default "1 2"), with
#      OMP_NUM_THREADS=T and OPENBLAS_NUM_THREADS=T set before either program starts, runs descent
#      then PyTorch (bench/mlp_steps_torch.py, Debian's /usr/bin/python3 with torch 1.13), printing
#      the load average before each program:
#      a. "steps" (one process per framework): the MLP's training step (zero_grad, forward, loss,
#         backward, Adam step) on a fixed random batch at batch 1, 16, 64, 256, 1024 (20 warm-up
#         steps, then the median over REPS blocks of max(20, 2000/batch) steps of the mean ms per
#         step); a 2-2-1 tanh network's step (MSE, SGD lr 0.1, batch 1, blocks of 20000 steps, µs:
#         the framework's fixed cost per step); the MLP step's effective GFLOP/s at batch 1024
#         (2*B*503552 flops per step: forward 2*B*(784*256+256*128+128*10), backward twice that less
#         the first layer's input gradient) next to raw cblas_sgemm (descent's program) and torch.mm
#         (PyTorch's) GFLOP/s on 1024x1024x1024 float32;
#      b. "epoch" at batch 64 and at batch 256, each in its own process: one Fashion-MNIST epoch
#         (60000 images standardized with one global mean and std, shuffled, after 20 warm-up
#         steps): seconds, mean training loss of the last 100 steps, and the process's peak resident
#         memory (getrusage ru_maxrss; it includes the float32 training set, 188 MB);
#   3. prints Markdown tables (for docs/benchmarks.md): times with t_torch / t_descent (above 1:
#      descent is faster), the epochs' losses and peak memory, and the GFLOP/s.
#
# PyTorch runs with its fastest settings for this network (measured on this machine): Adam and SGD
# with foreach=True, zero_grad(set_to_none=True) (what descent's zero_grad does too), and the same
# OpenBLAS build as descent (LD_LIBRARY_PATH: OpenBLAS's OpenMP build when descent links it, which
# is also PyTorch's fastest with 2 threads).
#
# Usage: bench/mlp_steps.sh [threads ...]            e.g. bench/mlp_steps.sh 1 2
# Environment:
#   REPS            timed blocks per step measurement (default 5; the median is reported)
#   MALLOC          default | tuned | both (default: both). "tuned" runs both programs with
#                   GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296,
#                   so freed buffers up to 32 MB stay in the heap instead of going back to the kernel.
#   FLUSH_DENORMAL  1 (default) | 0: 1 sets flush-to-zero / denormals-are-zero in both programs
#                   (torch.set_flush_denormal(True) in PyTorch's). On a fixed batch Adam's moments of
#                   parameters whose gradient stays 0 decay into denormal floats; PyTorch's foreach
#                   Adam is then up to 2x slower at small batches without it (descent's is not affected).
#   MAX_STEPS       cap every timed block and each epoch at this many steps (default 0: no cap), for
#                   quick checks
#   DATA_DIR        default /usr/share/datasets/fashion-mnist
#   BUILD_DIR (default build-bench), JOBS (default 2), PYTHON (default /usr/bin/python3)
#   OPENBLAS_CORETYPE  passed to both programs as it is (the script prints the kernels OpenBLAS picks);
#                   this machine sets Haswell; `env -u OPENBLAS_CORETYPE bench/mlp_steps.sh` lets
#                   OpenBLAS choose for the CPU (Cooperlake, AVX-512, here). docs/benchmarks.md has both.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
reps="${REPS:-5}"
flush_denormal="${FLUSH_DENORMAL:-1}"
max_steps="${MAX_STEPS:-0}"
data="${DATA_DIR:-/usr/share/datasets/fashion-mnist}"
threads_list=("$@")
[ ${#threads_list[@]} -eq 0 ] && threads_list=(1 2)
epoch_batches=(64 256)

build_benchmark descent_bench_mlp
same_blas_for_torch "$build/bench/descent_bench_mlp"
print_header "REPS=$reps FLUSH_DENORMAL=$flush_denormal MAX_STEPS=$max_steps"
run_env_extra=(FLUSH_DENORMAL="$flush_denormal")

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

# measure MALLOC_MODE T FRAMEWORK command...: runs it, prints its output, keeps its RESULT lines.
measure() {
  local mode="$1" t="$2" framework="$3" out
  shift 3
  echo "-- load average before $framework: $(cut -d' ' -f1-3 /proc/loadavg)"
  out="$(run_env "$mode" "$t" "$@")"
  echo "$out"
  grep '^RESULT' <<< "$out" | sed "s/^RESULT /RESULT malloc=$mode /" >> "$results"
}

for mode in $malloc_modes; do
  for t in "${threads_list[@]}"; do
    echo
    echo "== malloc: $mode, threads: $t"
    measure "$mode" "$t" descent "$build/bench/descent_bench_mlp" steps "$t" "$reps" "$max_steps"
    measure "$mode" "$t" PyTorch "${torch_blas[@]}" "$python" "$root/bench/mlp_steps_torch.py" steps --threads "$t" --reps "$reps" \
      --max-steps "$max_steps"
    for batch in "${epoch_batches[@]}"; do
      measure "$mode" "$t" descent "$build/bench/descent_bench_mlp" epoch "$t" "$batch" "$data" "$max_steps"
      measure "$mode" "$t" PyTorch "${torch_blas[@]}" "$python" "$root/bench/mlp_steps_torch.py" epoch --threads "$t" --batch "$batch" \
        --data "$data" --max-steps "$max_steps"
    done
  done
done

echo
echo "== summary (REPS=$reps, FLUSH_DENORMAL=$flush_denormal, MAX_STEPS=$max_steps; ratio = t_torch / t_descent, above 1: descent faster)"
python3 - "$results" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(item.split("=", 1) for item in line.split()[1:])
    rows[(kv["measure"], int(kv["batch"]), int(kv["threads"]), kv["malloc"], kv["framework"])] = kv
keys = sorted({k[:4] for k in rows}, key=lambda k: (k[3], k[2], ["step", "tiny_step", "epoch", "gflops_mlp",
                                                                   "gflops_gemm"].index(k[0]), k[1]))
both = lambda k: (rows.get(k + ("descent",)), rows.get(k + ("torch",)))

print()
print("| measure | batch | threads | malloc | unit | descent | PyTorch | t_torch / t_descent |")
print("|---|---:|---:|---|---|---:|---:|---:|")
units = {"step": ("ms", "ms", "MLP step"), "tiny_step": ("us", "µs", "2-2-1 tanh step"), "epoch": ("s", "s", "MLP epoch")}
for k in keys:
    if k[0] not in units:
        continue
    field, unit, name = units[k[0]]
    d, p = both(k)
    dv, pv = (float(r[field]) if r else None for r in (d, p))
    fmt = lambda v: "–" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")
    ratio = f"{pv / dv:.2f}" if dv and pv else "–"
    print(f"| {name} | {k[1]} | {k[2]} | {k[3]} | {unit} | {fmt(dv)} | {fmt(pv)} | {ratio} |")

print()
print("| epoch batch | threads | malloc | steps | loss, last 100 steps: descent | PyTorch | peak RSS MiB: descent | PyTorch | RSS torch / descent |")
print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
for k in keys:
    if k[0] != "epoch":
        continue
    d, p = both(k)
    get = lambda r, f: r[f] if r else "–"
    ratio = f"{float(p['peak_rss_mib']) / float(d['peak_rss_mib']):.2f}" if d and p else "–"
    print(f"| {k[1]} | {k[2]} | {k[3]} | {get(d or p, 'steps')} | {get(d, 'loss_last100')} | {get(p, 'loss_last100')} | "
          f"{get(d, 'peak_rss_mib')} | {get(p, 'peak_rss_mib')} | {ratio} |")

print()
print("GFLOP/s: the MLP step at batch 1024 counts 2*B*503552 flops (forward 2*B*(784*256+256*128+128*10), backward")
print("twice that less the first layer's input gradient; bias, ReLU, loss, Adam not counted); GEMM: 1024x1024x1024 float32.")
print()
print("| threads | malloc | descent MLP step | raw cblas_sgemm | PyTorch MLP step | torch.mm |")
print("|---:|---|---:|---:|---:|---:|")
for k in keys:
    if k[0] != "gflops_mlp":
        continue
    g = lambda measure, batch, fw: rows.get((measure, batch, k[2], k[3], fw), {}).get("gflops", "–")
    print(f"| {k[2]} | {k[3]} | {g('gflops_mlp', 1024, 'descent')} | {g('gflops_gemm', 1024, 'descent')} | "
          f"{g('gflops_mlp', 1024, 'torch')} | {g('gflops_gemm', 1024, 'torch')} |")
EOF
