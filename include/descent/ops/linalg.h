#pragma once
// Matrix products through CBLAS.

#include "descent/core/tensor.h"

namespace descent {

/// Matrix product with torch.matmul's rules: 1-D x 1-D is a dot product; 2-D x 2-D a matrix
/// product ([m, k] x [k, n] -> [m, n]); a 1-D operand is promoted to a matrix and the added
/// dimension removed afterwards; with 3 or more dimensions the leading (batch) dimensions
/// broadcast: [b, m, k] x [k, n] -> [b, m, n]. Transposed views go to the BLAS without a copy.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace descent
