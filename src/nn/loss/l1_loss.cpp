// l1_loss: |input - target|, composed of differentiable ops (abs has gradient 0 at 0, as PyTorch's
// sign).

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  loss_detail::check_same_floating("l1_loss", input, target);
  return loss_detail::reduce(abs(sub(input, target)), reduction);
}

}  // namespace descent
