#include "descent/core/threads.h"

#include <cblas.h>
#include <omp.h>

#include "internal/check.h"

namespace descent {

namespace {
// Applies the default (all cores) once, before the first kernel, so the BLAS and OpenMP agree.
int& configured_threads() {
  static int threads = [] {
    const int n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return n;
  }();
  return threads;
}
}  // namespace

void set_num_threads(int n) {
  DESCENT_CHECK_VALUE(n >= 1, "set_num_threads: expected at least 1 thread, got {}", n);
  configured_threads() = n;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int get_num_threads() { return configured_threads(); }

std::string_view blas_threading() {
  switch (openblas_get_parallel()) {  // OpenBLAS: 0 sequential, 1 pthreads, 2 OpenMP
    case 0:
      return "sequential";
    case 2:
      return "openmp";
    default:
      return "pthreads";
  }
}

}  // namespace descent
