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

/// c = op(a) @ op(b) + beta * c on row-major matrices given by pointer (T = float or double):
/// op(a) is [m, k], stored as [m, k] with row stride lda, or as [k, m] when trans_a; likewise b
/// ([k, n], or [n, k] when trans_b) and c ([m, n], row stride ldc). m, n, k > 0. For ops whose
/// operands are known dense: no Tensor views to build. A single row or column (m or n = 1) goes to
/// GEMV and k = 1 to GER, which OpenBLAS runs without GEMM's packing.
template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
          const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

}  // namespace descent::kernels
