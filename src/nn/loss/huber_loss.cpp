// huber_loss: with z = |input - target|, 0.5 z^2 where z < delta, else delta (z - 0.5 delta).
// Composed of differentiable ops; `where` routes the gradient to the branch taken, so the gradient
// is (input - target) inside and delta * sign(input - target) outside, as PyTorch's.

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "internal/check.h"
#include "nn/loss/common.h"

namespace descent {

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  loss_detail::check_same_floating("huber_loss", input, target);
  DESCENT_CHECK_VALUE(delta > 0.0, "huber_loss: delta must be positive, got {}", delta);
  const Tensor d = sub(input, target);
  const Tensor z = abs(d);
  const Tensor quadratic = mul(mul(d, d), 0.5);
  const Tensor linear = mul(sub(z, 0.5 * delta), delta);
  return loss_detail::reduce(where(lt(z.detach(), delta), quadratic, linear), reduction);
}

}  // namespace descent
