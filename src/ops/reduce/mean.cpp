#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "kernels/reduce.h"

namespace descent {

// mean = sum / count, composed of differentiable ops (no backward of its own).
Tensor mean(const Tensor& x, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  const std::vector<std::int64_t> dims = kernels::normalize_dims(dims_in, x.dim(), "mean");
  std::int64_t count = 1;
  for (std::int64_t d : dims) count *= x.shape()[d];
  return div(sum(x, dims, keepdim), static_cast<double>(count));
}

Tensor mean(const Tensor& x) { return div(sum(x), static_cast<double>(x.numel())); }

}  // namespace descent
