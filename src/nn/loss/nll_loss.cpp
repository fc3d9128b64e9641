// nll_loss: -weight[t] * log_probs[n, t, ...] for int64 class-index targets, composed of gather and
// elementwise ops (the gather's backward scatters the gradient to the picked entries).

#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "nn/loss/common.h"

namespace descent {

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllLossOptions& options) {
  constexpr std::string_view op = "nll_loss";
  loss_detail::check_defined(op, "input", log_probs);
  loss_detail::check_defined(op, "target", target);
  DESCENT_CHECK_DTYPE(is_floating(log_probs.dtype()), "{}: input must be floating (float32 or float64), got {}", op,
                      dtype_name(log_probs.dtype()));
  DESCENT_CHECK_SHAPE(log_probs.dim() >= 1, "{}: input must be [C], [N, C] or [N, C, d1, ...], got shape {}", op,
                      log_probs.shape());
  const bool unbatched = log_probs.dim() == 1;
  DESCENT_CHECK_SHAPE(!unbatched || target.dim() == 0,
                      "{}: for an unbatched input {} the target must be a 0-dimensional class index, got shape {}", op,
                      log_probs.shape(), target.shape());
  const Tensor x = loss_detail::batch_classes(log_probs);
  const Tensor t = unbatched ? reshape(target, {1}) : target;
  const Tensor weight = loss_detail::check_class_weight(op, options.weight, x, x.size(1));
  const loss_detail::ClassTargets targets = loss_detail::class_targets(op, x, t, weight, options.ignore_index);
  const Tensor loss = loss_detail::picked_nll(x, targets);
  switch (options.reduction) {
    case Reduction::None: return unbatched ? reshape(loss, {}) : loss;
    case Reduction::Sum: return sum(loss);
    case Reduction::Mean: return div(sum(loss), targets.total_weight);
  }
  throw ValueError("nll_loss: unknown reduction");
}

}  // namespace descent
