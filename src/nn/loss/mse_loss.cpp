// mse_loss: (input - target)^2, composed of differentiable ops.

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  loss_detail::check_same_floating("mse_loss", input, target);
  const Tensor d = sub(input, target);
  return loss_detail::reduce(mul(d, d), reduction);
}

}  // namespace descent
