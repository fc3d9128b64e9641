// kl_div: target * (log(target) - input) with 0 where target == 0 (PyTorch's xlogy), or
// exp(target) * (target - input) with log_target; input holds log-probabilities. Composed of
// differentiable ops. batchmean divides the sum by the size of dim 0.

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "kernels/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivOptions& options) {
  constexpr std::string_view op = "kl_div";
  loss_detail::check_same_floating(op, input, target);
  Tensor loss;
  if (options.log_target) {
    loss = mul(exp(target), sub(target, input));
  } else {
    // xlogy(t, t) = t log t, 0 at t == 0. log reads 1 there so that neither the value nor the
    // gradient meets 0 * -inf (PyTorch's target gradient is NaN at t == 0; descent's is -input).
    const Tensor zero_t = kernels::map_unary(target.detach(), op, [](auto v) {
      return v == decltype(v)(0) ? decltype(v)(1) : decltype(v)(0);
    });
    const Tensor safe = where(zero_t, scalar_tensor(1.0, target.dtype()), target);
    const Tensor xlogx = where(zero_t, scalar_tensor(0.0, target.dtype()), mul(target, log(safe)));
    loss = sub(xlogx, mul(target, input));
  }
  switch (options.reduction) {
    case KLDivReduction::None: return loss;
    case KLDivReduction::Sum: return sum(loss);
    case KLDivReduction::Mean: return mean(loss);
    case KLDivReduction::BatchMean:
      return input.dim() == 0 ? sum(loss) : div(sum(loss), static_cast<double>(input.size(0)));
  }
  throw ValueError("kl_div: unknown reduction");
}

}  // namespace descent
