#pragma once
// Matrix products through CBLAS.

#include "descent/core/tensor.h"

namespace descent {

/// Matrix product with torch.matmul's rules: 1-D x 1-D is a dot product; 2-D x 2-D a matrix
/// product ([m, k] x [k, n] -> [m, n]); a 1-D operand is promoted to a matrix and the added
/// dimension removed afterwards; with 3 or more dimensions the leading (batch) dimensions
/// broadcast: [b, m, k] x [k, n] -> [b, m, n]. Transposed views go to the BLAS without a copy.
Tensor matmul(const Tensor& a, const Tensor& b);

/// torch.nn.functional.linear: y = x W^T + b for x of shape [..., in_features], weight W of shape
/// [out_features, in_features] and an optional bias b of shape [out_features] (undefined: none);
/// y has shape [..., out_features]. One GEMM forward (onto the bias rows) and one GEMM or row sum
/// per gradient backward, with W^T and transposed x passed to the BLAS without a copy.
///
///   Tensor y = linear(x, w, b);   // [32, 784] x [128, 784]^T + [128] -> [32, 128]
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace descent
