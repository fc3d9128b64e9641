// smooth_l1_loss: with z = |input - target|, 0.5 z^2 / beta where z < beta, else z - 0.5 beta
// (huber_loss / beta); beta == 0 is l1_loss, as in PyTorch. Composed of differentiable ops.

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "internal/check.h"
#include "nn/loss/common.h"

namespace descent {

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  loss_detail::check_same_floating("smooth_l1_loss", input, target);
  DESCENT_CHECK_VALUE(beta >= 0.0, "smooth_l1_loss: beta must be non-negative, got {}", beta);
  const Tensor d = sub(input, target);
  const Tensor z = abs(d);
  if (beta == 0.0) return loss_detail::reduce(z, reduction);
  const Tensor quadratic = div(mul(mul(d, d), 0.5), beta);
  const Tensor linear = sub(z, 0.5 * beta);
  return loss_detail::reduce(where(lt(z.detach(), beta), quadratic, linear), reduction);
}

}  // namespace descent
