// cross_entropy: log_softmax over the class dim (finite for logits of any magnitude) followed by
// the negative log-likelihood of class-index targets, or the cross entropy with class
// probabilities. Label smoothing and weights follow PyTorch 1.13 exactly:
//   indices:       loss_n = (1 - s) * nll_n + s / C * smooth_n, smooth_n = -sum_c w_c log_softmax_nc
//                  (both 0 where ignored); Mean divides by the sum of w[t_n] over kept targets.
//   probabilities: loss_n = -sum_c w_c q_nc log_softmax_nc with q = (1 - s) p + s / C; Mean divides
//                  by N * d1 * ... (the number of samples, not the weights).

#include "descent/nn/loss.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "nn/loss/common.h"

namespace descent {

namespace {
constexpr std::string_view kOp = "cross_entropy";

// The weight shaped [1, C, 1, ...] to broadcast over the batched input.
Tensor class_dim_weight(const Tensor& weight, std::int64_t ndim) {
  Shape shape(static_cast<std::size_t>(ndim), 1);
  shape[1] = weight.size(0);
  return reshape(weight, shape);
}

Tensor probability_targets(const Tensor& x, const Tensor& p, const Tensor& weight, const CrossEntropyOptions& o) {
  const std::int64_t classes = x.size(1);
  DESCENT_CHECK_VALUE(o.ignore_index < 0,
                      "{}: ignore_index ({}) is not supported with class-probability targets (target {} has the "
                      "input's shape)",
                      kOp, o.ignore_index, p.shape());
  const Tensor log_probs = log_softmax(x, 1);
  Tensor q = p;
  if (o.label_smoothing > 0.0) q = add(mul(p, 1.0 - o.label_smoothing), o.label_smoothing / static_cast<double>(classes));
  Tensor prod = mul(log_probs, q);
  if (weight.defined()) prod = mul(prod, class_dim_weight(weight, x.dim()));
  switch (o.reduction) {
    case Reduction::None: return neg(sum(prod, {1}));
    case Reduction::Sum: return neg(sum(prod));
    case Reduction::Mean: {
      // N * d1 * ...; 0 (a NaN mean, as PyTorch) for an empty batch.
      const std::int64_t samples = classes == 0 ? 0 : x.numel() / classes;
      return div(neg(sum(prod)), static_cast<double>(samples));
    }
  }
  throw ValueError("cross_entropy: unknown reduction");
}

Tensor index_targets(const Tensor& x, const Tensor& t, const Tensor& weight, const CrossEntropyOptions& o) {
  const loss_detail::ClassTargets targets = loss_detail::class_targets(kOp, x, t, weight, o.ignore_index);
  const Tensor log_probs = log_softmax(x, 1);
  Tensor loss = loss_detail::picked_nll(log_probs, targets);
  if (o.label_smoothing > 0.0) {
    const double classes = static_cast<double>(x.size(1));
    const Tensor weighted = weight.defined() ? mul(log_probs, class_dim_weight(weight, x.dim())) : log_probs;
    Tensor smooth = neg(sum(weighted, {1}));
    if (targets.any_ignored) smooth = where(targets.keep, smooth, scalar_tensor(0.0, smooth.dtype()));
    loss = add(mul(loss, 1.0 - o.label_smoothing), mul(smooth, o.label_smoothing / classes));
  }
  switch (o.reduction) {
    case Reduction::None: return loss;
    case Reduction::Sum: return sum(loss);
    case Reduction::Mean: return div(sum(loss), targets.total_weight);
  }
  throw ValueError("cross_entropy: unknown reduction");
}
}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options) {
  loss_detail::check_defined(kOp, "input", input);
  loss_detail::check_defined(kOp, "target", target);
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "{}: input must be floating (float32 or float64), got {}", kOp,
                      dtype_name(input.dtype()));
  DESCENT_CHECK_SHAPE(input.dim() >= 1, "{}: input must be [C], [N, C] or [N, C, d1, ...], got shape {}", kOp,
                      input.shape());
  DESCENT_CHECK_VALUE(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0,
                      "{}: label_smoothing must be in [0, 1], got {}", kOp, options.label_smoothing);
  const bool unbatched = input.dim() == 1;
  const Tensor x = loss_detail::batch_classes(input);
  const Tensor weight = loss_detail::check_class_weight(kOp, options.weight, x, x.size(1));

  if (target.shape() == input.shape()) {
    // Class probabilities (PyTorch's rule: a target of the input's shape).
    DESCENT_CHECK_DTYPE(target.dtype() == input.dtype(),
                        "{}: a target of the input's shape {} holds class probabilities and must have the input's "
                        "dtype {}, got {} (class indices are int64 of shape [N, d1, ...])",
                        kOp, input.shape(), dtype_name(input.dtype()), dtype_name(target.dtype()));
    const Tensor loss = probability_targets(x, loss_detail::batch_classes(target), weight, options);
    return unbatched && options.reduction == Reduction::None ? reshape(loss, {}) : loss;
  }
  DESCENT_CHECK_SHAPE(!unbatched || target.dim() == 0,
                      "{}: for an unbatched input {} the target must be a 0-dimensional class index or probabilities "
                      "of shape {}, got shape {}",
                      kOp, input.shape(), input.shape(), target.shape());
  const Tensor loss = index_targets(x, unbatched ? reshape(target, {1}) : target, weight, options);
  return unbatched && options.reduction == Reduction::None ? reshape(loss, {}) : loss;
}

}  // namespace descent
