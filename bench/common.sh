# What bench/mlp_steps.sh and bench/cnn_epoch.sh share (sourced, not run): the build of one benchmark
# program, PyTorch on the same OpenBLAS build as descent, the header lines naming the machine, and the
# thread / malloc environment each program runs under.
#
# Before sourcing: `set -euo pipefail`. Reads BUILD_DIR, JOBS, PYTHON, MALLOC (see the scripts' headers).
# Sets: root, build, jobs, python, malloc_modes ("default tuned" for both), tuned_env.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-bench}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
jobs="${JOBS:-2}"
python="${PYTHON:-/usr/bin/python3}"
malloc_modes="${MALLOC:-both}"
[ "$malloc_modes" = both ] && malloc_modes="default tuned"
# "tuned": freed buffers up to 32 MB stay in the heap instead of going back to the kernel.
tuned_env="glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"

# build_benchmark TARGET: configures build-bench (Release, benchmarks on, tests and examples off) and
# builds TARGET; then checks that PYTHON has torch.
build_benchmark() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_BENCHMARKS=ON \
    -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build" -j"$jobs" --target "$1"
  "$python" -c 'import torch' 2>/dev/null || { echo "error: $python has no torch (apt-get install python3-torch)" >&2; exit 1; }
}

# same_blas_for_torch PROGRAM: sets blas_dir (the folder of the OpenBLAS that PROGRAM loads) and
# torch_blas (a command prefix that makes PyTorch load its libblas.so.3 and libopenblas.so.0 from
# there first: the OpenMP build when descent links it, also PyTorch's fastest with 2 threads).
same_blas_for_torch() {
  blas_dir="$(dirname "$(ldd "$1" | awk '/libopenblas\.so/ {print $3; exit}')")"
  torch_blas=(env LD_LIBRARY_PATH="$blas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
}

# print_header [EXTRA]: the machine, OPENBLAS_CORETYPE, the date, torch's version, EXTRA, and the
# OpenBLAS both programs run with the kernels it picked (after same_blas_for_torch).
print_header() {
  echo
  echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>}"
  echo "== date: $(date -u '+%Y-%m-%d %H:%M UTC'); torch $("$python" -c 'import torch; print(torch.__version__)')${1:+; $1}"
  echo "== OpenBLAS for both: $blas_dir; its kernels: $("$python" -c 'import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())' "$blas_dir/libopenblas.so.0" 2>/dev/null || echo unknown)"
}

# run_env MALLOC_MODE T command...: the command with OMP_NUM_THREADS and OPENBLAS_NUM_THREADS = T,
# GLIBC_TUNABLES for "tuned", and the assignments in the array run_env_extra (if the script sets it).
run_env() {
  local mode="$1" t="$2"
  shift 2
  local vars=(OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" "${run_env_extra[@]}")
  [ "$mode" = tuned ] && vars+=(GLIBC_TUNABLES="$tuned_env")
  env "${vars[@]}" "$@"
}
run_env_extra=()
