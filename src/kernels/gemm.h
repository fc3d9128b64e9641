#pragma once
// GEMM through CBLAS. A matrix operand is passed to the BLAS as it lies in memory when its
// strides allow (row-major, or a transposed view of row-major data); only other layouts are copied.

#include "descent/core/tensor.h"

namespace descent::kernels {

/// out[..., m, n] = a[..., m, k] @ b[..., k, n] + beta * out[..., m, n] for a, b of at least 2 dims
/// whose batch dims broadcast to out's (out is contiguous and already has the broadcast shape).
/// With beta = 0 (the default) out's old contents are ignored; beta = 1 accumulates into out
/// (linear writes the bias into out first).
void batched_gemm(const Tensor& a, const Tensor& b, const Tensor& out, double beta = 0.0);

}  // namespace descent::kernels
