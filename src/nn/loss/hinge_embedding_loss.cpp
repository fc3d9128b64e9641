// hinge_embedding_loss, composed as PyTorch 1.13 does:
//   where(target != 1, max(0, margin - x), 0) + where(target != -1, x, 0)
// so x where target == 1, max(0, margin - x) where target == -1, and both for any other target.

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, const HingeEmbeddingLossOptions& options) {
  constexpr std::string_view op = "hinge_embedding_loss";
  loss_detail::check_same_floating(op, input, target);
  const Tensor t = target.detach();
  const Tensor not_pos = kernels::map_unary(t, op, [](auto v) { return v != decltype(v)(1) ? decltype(v)(1) : decltype(v)(0); });
  const Tensor not_neg = kernels::map_unary(t, op, [](auto v) { return v != decltype(v)(-1) ? decltype(v)(1) : decltype(v)(0); });
  const Tensor zero = scalar_tensor(0.0, input.dtype());
  const Tensor margin_term = clamp(rsub(input, options.margin), 0.0, std::nullopt);
  const Tensor loss = add(where(not_pos, margin_term, zero), where(not_neg, input, zero));
  return loss_detail::reduce(loss, options.reduction);
}

}  // namespace descent
