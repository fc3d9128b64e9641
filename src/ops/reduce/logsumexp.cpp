#include <cmath>

#include "descent/autograd/grad_mode.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace descent {

// logsumexp = m + log(sum(exp(x - m))) with m = amax(x) held constant (it cancels in the
// gradient, softmax(x)), so the composition is stable and differentiable; infinite maxima are
// replaced by 0 so that inf - inf never appears.
Tensor logsumexp(const Tensor& x, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  const std::vector<std::int64_t> dims = kernels::normalize_dims(dims_in, x.dim(), "logsumexp");
  Tensor m;
  {
    NoGradGuard no_grad;
    if (x.numel() == 0) {
      // No maximum to take: as PyTorch, the sum of nothing is 0 and its log -inf.
      Shape kept = x.shape();
      for (std::int64_t d : dims) kept[d] = 1;
      m = zeros(kept, x.dtype());
    } else {
      m = kernels::reduce(x, dims, kernels::ReduceKind::Max, "logsumexp");
      m = kernels::map_unary(m, "logsumexp", [](auto v) { return std::isinf(v) ? decltype(v)(0) : v; });
    }
  }
  Tensor s = log(sum(exp(sub(x, m)), dims, true));
  Tensor y = add(s, m);
  return keepdim ? y : reshape(y, kernels::squeeze_dims(y.shape(), dims));
}

}  // namespace descent
