// multi_margin_loss (the multi-class SVM hinge), composed of gather and elementwise ops:
//   loss_n = sum_{i != y_n} weight[y_n] * max(0, margin - x[n, y_n] + x[n, i])^p / C
// Reduction Mean divides by N (not by the weights), as PyTorch. relu's gradient is 0 at the
// hinge, as PyTorch's (it counts only z > 0).

#include <vector>

#include "descent/nn/loss.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "nn/loss/common.h"

namespace descent {

Tensor multi_margin_loss(const Tensor& input, const Tensor& target, const MultiMarginLossOptions& options) {
  constexpr std::string_view op = "multi_margin_loss";
  loss_detail::check_defined(op, "input", input);
  loss_detail::check_defined(op, "target", target);
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "{}: input must be floating (float32 or float64), got {}", op,
                      dtype_name(input.dtype()));
  DESCENT_CHECK_SHAPE(input.dim() == 1 || input.dim() == 2, "{}: input must be [N, C] or [C], got shape {}", op,
                      input.shape());
  DESCENT_CHECK_VALUE(options.p == 1 || options.p == 2, "{}: p must be 1 or 2, got {}", op, options.p);
  DESCENT_CHECK_DTYPE(target.dtype() == kInt64, "{}: target must hold int64 class indices, got {} (input {}, target {})",
                      op, dtype_name(target.dtype()), input.shape(), target.shape());
  const bool unbatched = input.dim() == 1;
  const Tensor x = unbatched ? unsqueeze(input, 0) : input;
  const std::int64_t n = x.size(0), classes = x.size(1);
  DESCENT_CHECK_SHAPE(unbatched ? target.numel() == 1 && target.dim() <= 1 : target.shape() == Shape{n},
                      "{}: target shape {} does not fit input {}: it must be [{}]{}", op, target.shape(), input.shape(),
                      n, unbatched ? " or []" : "");
  const Tensor weight = loss_detail::check_class_weight(op, options.weight, x, classes);
  const std::vector<double> w = weight.defined() ? weight.to_vector<double>() : std::vector<double>();

  // coef[n, i] = weight[y_n] / C for i != y_n, 0 at i == y_n: a constant.
  const std::vector<std::int64_t> labels = target.to_vector<std::int64_t>();
  std::vector<double> coef(static_cast<std::size_t>(n * classes));
  for (std::int64_t r = 0; r < n; ++r) {
    const std::int64_t y = labels[r];
    DESCENT_CHECK_INDEX(y >= 0 && y < classes, "{}: class index {} out of range for C = {} classes (target element {})",
                        op, y, classes, r);
    const double c = (w.empty() ? 1.0 : w[y]) / static_cast<double>(classes);
    for (std::int64_t i = 0; i < classes; ++i) coef[r * classes + i] = i == y ? 0.0 : c;
  }
  const Tensor picked = gather(x, 1, tensor_int64(labels, {n, 1}));       // x[n, y_n], [N, 1]
  Tensor h = relu(add(sub(x, picked), options.margin));                   // max(0, margin - x_y + x_i)
  if (options.p == 2) h = mul(h, h);
  const Tensor loss = sum(mul(h, tensor(coef, {n, classes}, x.dtype())), {1});
  switch (options.reduction) {
    case Reduction::None: return unbatched ? reshape(loss, target.shape()) : loss;
    case Reduction::Sum: return sum(loss);
    case Reduction::Mean: return mean(loss);
  }
  throw ValueError("multi_margin_loss: unknown reduction");
}

}  // namespace descent
