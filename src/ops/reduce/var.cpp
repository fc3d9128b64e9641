#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "kernels/reduce.h"

namespace descent {

// var = sum((x - mean)^2) / (N - correction), composed of differentiable ops.
Tensor var(const Tensor& x, const std::vector<std::int64_t>& dims_in, double correction, bool keepdim) {
  const std::vector<std::int64_t> dims = kernels::normalize_dims(dims_in, x.dim(), "var");
  std::int64_t count = 1;
  for (std::int64_t d : dims) count *= x.shape()[d];
  const Tensor centered = sub(x, mean(x, dims, true));
  // As PyTorch: N - correction <= 0 gives inf or nan rather than an error.
  return div(sum(mul(centered, centered), dims, keepdim), static_cast<double>(count) - correction);
}

}  // namespace descent
