#pragma once

#include <string_view>
// One setting governs all of descent's parallelism: the OpenMP threads of the elementwise and
// reduction kernels and the BLAS threads of GEMM, so the two never oversubscribe the cores.

namespace descent {

/// Sets the number of threads used by descent's kernels and by the BLAS; n >= 1.
/// The default is every core the machine has.
void set_num_threads(int n);

/// The number of threads in use.
int get_num_threads();

/// How the BLAS that runs descent's GEMMs keeps its threads: "openmp" (OpenBLAS's OpenMP build:
/// the same threads as descent's kernels, what the build prefers), "pthreads" (a pool of its own,
/// which competes with OpenMP's for the cores: more than 1 thread is then often slower than 1),
/// or "sequential".
std::string_view blas_threading();

}  // namespace descent
