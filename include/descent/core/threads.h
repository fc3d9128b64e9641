#pragma once
// One setting governs all of descent's parallelism: the OpenMP threads of the elementwise and
// reduction kernels and the BLAS threads of GEMM, so the two never oversubscribe the cores.

namespace descent {

/// Sets the number of threads used by descent's kernels and by the BLAS; n >= 1.
/// The default is every core the machine has.
void set_num_threads(int n);

/// The number of threads in use.
int get_num_threads();

}  // namespace descent
