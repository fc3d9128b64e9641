#!/usr/bin/env bash
# One epoch of Fashion-MNIST CNN training, descent vs PyTorch, same network, batch size (64) and
# threads, measured in one run (never part of the tests).
#
# What it does:
#   1. configures and builds descent_bench_cnn_epoch (bench/cnn_epoch.cpp) in build-bench/
#      (Release, benchmarks on, -j2; installs and downloads nothing);
#   2. for each malloc setting (MALLOC) and each thread count T (arguments, default "1 2"), with
#      OMP_NUM_THREADS=T and OPENBLAS_NUM_THREADS=T set before either program starts:
#      a. picks PyTorch's best settings (unless TORCH_CONFIG is given): mkldnn on/off x
#         channels_last on/off, each timed over TRIAL_STEPS steps (after 20 warm-up steps) in its
#         own process; the fastest is used;
#      b. runs, REPS times, descent's epoch then PyTorch's (bench/cnn_epoch_torch.py, Debian's
#         /usr/bin/python3 with torch 1.13), printing the load average before each;
#   3. prints a table: framework, threads, malloc, epoch seconds (median of REPS), images/s, the
#      final training loss (mean over the epoch's last 100 steps) and t_torch / t_descent (above 1:
#      descent is faster).
#
# Usage: bench/cnn_epoch.sh [threads ...]            e.g. bench/cnn_epoch.sh 1 2
# Environment:
#   REPS          epochs per framework and setting (default 1; the table shows the median)
#   MALLOC        default | tuned | both (default: both). "tuned" runs both programs with
#                 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296,
#                 so freed activation buffers stay in the heap instead of going back to the kernel
#                 (see docs/benchmarks.md: page faults dominate an epoch on a VM otherwise).
#   TORCH_CONFIG  e.g. "mkldnn=on,channels_last=on" to skip the trials
#   TRIAL_STEPS   steps per PyTorch trial (default 100)
#   MAX_STEPS     stop each epoch after this many steps (default 0: the full 938), for quick checks
#   DATA_DIR      default /usr/share/datasets/fashion-mnist
#   BUILD_DIR (default build-bench), JOBS (default 2), PYTHON (default /usr/bin/python3)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
reps="${REPS:-1}"
trial_steps="${TRIAL_STEPS:-100}"
max_steps="${MAX_STEPS:-0}"
data="${DATA_DIR:-/usr/share/datasets/fashion-mnist}"
threads_list=("$@")
[ ${#threads_list[@]} -eq 0 ] && threads_list=(1 2)

build_benchmark descent_bench_cnn_epoch
same_blas_for_torch "$build/bench/descent_bench_cnn_epoch"
print_header

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

for mode in $malloc_modes; do
  for t in "${threads_list[@]}"; do
    echo
    echo "== malloc: $mode, threads: $t"
    config="${TORCH_CONFIG:-}"
    if [ -z "$config" ]; then
      best=""
      best_rate=0
      for c in mkldnn=on,channels_last=off mkldnn=on,channels_last=on mkldnn=off,channels_last=off \
               mkldnn=off,channels_last=on; do
        line="$(run_env "$mode" "$t" "${torch_blas[@]}" "$python" "$root/bench/cnn_epoch_torch.py" --threads "$t" --data "$data" \
                  --config "$c" --max-steps "$trial_steps" | grep '^RESULT')"
        rate="$(sed -n 's/.* images_per_s=\([0-9.]*\).*/\1/p' <<< "$line")"
        echo "PyTorch trial ($trial_steps steps, load $(cut -d' ' -f1-3 /proc/loadavg)): $c: $rate images/s"
        if awk -v a="$rate" -v b="$best_rate" 'BEGIN { exit !(a > b) }'; then best="$c"; best_rate="$rate"; fi
      done
      config="$best"
      echo "PyTorch settings used: $config"
    fi
    for ((r = 1; r <= reps; ++r)); do
      echo "-- load average before descent: $(cut -d' ' -f1-3 /proc/loadavg)"
      out="$(run_env "$mode" "$t" "$build/bench/descent_bench_cnn_epoch" "$t" "$data" "$max_steps")"
      echo "$out"
      grep '^RESULT' <<< "$out" | sed "s/^RESULT /RESULT malloc=$mode /" >> "$results"
      echo "-- load average before PyTorch: $(cut -d' ' -f1-3 /proc/loadavg)"
      out="$(run_env "$mode" "$t" "${torch_blas[@]}" "$python" "$root/bench/cnn_epoch_torch.py" --threads "$t" --data "$data" \
               --config "$config" --max-steps "$max_steps")"
      echo "$out"
      grep '^RESULT' <<< "$out" | sed "s/^RESULT /RESULT malloc=$mode /" >> "$results"
    done
  done
done

echo
echo "== summary (median of $reps epoch(s) each; ratio = t_torch / t_descent, above 1: descent faster)"
python3 - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(item.split("=", 1) for item in line.split()[1:])
    rows.setdefault((kv["malloc"], int(kv["threads"]), kv["framework"]), []).append(kv)
print(f"{'framework':<10} {'threads':>7} {'malloc':<8} {'epoch s':>9} {'images/s':>9} {'loss (last 100)':>16}  settings")
for (malloc, threads, framework), runs in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "descent")):
    epoch = statistics.median(float(r["epoch_s"]) for r in runs)
    images = int(runs[0]["images"])
    loss = statistics.median(float(r["loss_last100"]) for r in runs)
    extra = "" if framework == "descent" else runs[0]["config"]
    if framework == "torch" and (malloc, threads, "descent") in rows:
        d = statistics.median(float(r["epoch_s"]) for r in rows[(malloc, threads, "descent")])
        extra += f"  ratio t_torch/t_descent = {epoch / d:.2f}"
    print(f"{framework:<10} {threads:>7} {malloc:<8} {epoch:>9.2f} {images / epoch:>9.0f} {loss:>16.4f}  {extra}")
EOF
