// Checks and helpers shared by the losses.

#include "nn/loss/common.h"

#include <vector>

#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "internal/check.h"

namespace descent::loss_detail {

void check_defined(std::string_view op, std::string_view what, const Tensor& t) {
  DESCENT_CHECK_VALUE(t.defined(), "{}: {} is an undefined tensor", op, what);
}

void check_same_floating(std::string_view op, const Tensor& input, const Tensor& target) {
  check_defined(op, "input", input);
  check_defined(op, "target", target);
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()),
                      "{}: input must be floating (float32 or float64), got {} (input {}, target {})", op,
                      dtype_name(input.dtype()), input.shape(), target.shape());
  DESCENT_CHECK_DTYPE(is_floating(target.dtype()),
                      "{}: target must be floating like the input ({}), got {} (input {}, target {})", op,
                      dtype_name(input.dtype()), dtype_name(target.dtype()), input.shape(), target.shape());
  DESCENT_CHECK_DTYPE(input.dtype() == target.dtype(),
                      "{}: input and target dtypes differ: {} vs {} (descent does not promote; convert with to())",
                      op, dtype_name(input.dtype()), dtype_name(target.dtype()));
  DESCENT_CHECK_SHAPE(input.shape() == target.shape(), "{}: input shape {} and target shape {} differ (they must be equal)",
                      op, input.shape(), target.shape());
}

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(loss);
    case Reduction::Sum: return sum(loss);
    case Reduction::None: return loss;
  }
  throw ValueError("loss: unknown reduction");
}

Tensor check_class_weight(std::string_view op, const Tensor& weight, const Tensor& input, std::int64_t classes) {
  if (!weight.defined()) return Tensor();
  DESCENT_CHECK_DTYPE(weight.dtype() == input.dtype(), "{}: weight has dtype {} but the input has {}", op,
                      dtype_name(weight.dtype()), dtype_name(input.dtype()));
  DESCENT_CHECK_SHAPE(weight.dim() == 1 && weight.size(0) == classes,
                      "{}: weight must have shape [C] = [{}] for input {}, got {}", op, classes, input.shape(),
                      weight.shape());
  return weight.detach();
}

Tensor check_broadcast_weight(std::string_view op, std::string_view what, const Tensor& weight, const Tensor& input) {
  if (!weight.defined()) return Tensor();
  DESCENT_CHECK_DTYPE(weight.dtype() == input.dtype(), "{}: {} has dtype {} but the input has {}", op, what,
                      dtype_name(weight.dtype()), dtype_name(input.dtype()));
  const Shape& w = weight.shape();
  const Shape& x = input.shape();
  bool ok = w.size() <= x.size();
  for (std::size_t i = 0; ok && i < w.size(); ++i) {
    const std::int64_t wd = w[w.size() - 1 - i];
    ok = wd == 1 || wd == x[x.size() - 1 - i];
  }
  DESCENT_CHECK_SHAPE(ok, "{}: {} shape {} does not broadcast to the input shape {}", op, what, w, x);
  return weight.detach();
}

Tensor batch_classes(const Tensor& input) { return input.dim() == 1 ? unsqueeze(input, 0) : input; }

ClassTargets class_targets(std::string_view op, const Tensor& input, const Tensor& target, const Tensor& weight,
                           std::int64_t ignore_index) {
  const Shape& in_shape = input.shape();
  DESCENT_DCHECK(in_shape.size() >= 2);
  Shape want{in_shape[0]};
  for (std::size_t d = 2; d < in_shape.size(); ++d) want.push_back(in_shape[d]);
  DESCENT_CHECK_DTYPE(target.dtype() == kInt64,
                      "{}: class-index target must be int64, got {} (input {}, target {}); class probabilities "
                      "must have the input's shape",
                      op, dtype_name(target.dtype()), in_shape, target.shape());
  DESCENT_CHECK_SHAPE(target.shape() == want,
                      "{}: target shape {} does not fit input {}: class-index targets need shape {}", op,
                      target.shape(), in_shape, want);
  const std::int64_t classes = in_shape[1];
  const Tensor t = target.contiguous();
  const std::int64_t* idx = t.data_ptr<std::int64_t>();
  const std::int64_t n = t.numel();
  std::vector<double> w;
  if (weight.defined()) w = weight.to_vector<double>();

  ClassTargets out;
  out.weighted = weight.defined();
  std::vector<std::int64_t> gather_index(static_cast<std::size_t>(n));
  std::vector<double> sample_weight(static_cast<std::size_t>(n)), keep(static_cast<std::size_t>(n));
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t c = idx[j];
    if (c == ignore_index) {
      out.any_ignored = true;
      continue;  // index 0, weight 0, keep 0
    }
    DESCENT_CHECK_INDEX(c >= 0 && c < classes,
                        "{}: class index {} out of range for C = {} classes (target element {}; valid 0..{}, or "
                        "ignore_index {})",
                        op, c, classes, j, classes - 1, ignore_index);
    gather_index[j] = c;
    sample_weight[j] = w.empty() ? 1.0 : w[static_cast<std::size_t>(c)];
    keep[j] = 1.0;
    out.total_weight += sample_weight[j];
  }
  Shape index_shape = want;
  index_shape.insert(index_shape.begin() + 1, 1);
  out.gather_index = tensor_int64(gather_index, index_shape);
  out.sample_weight = tensor(sample_weight, want, input.dtype());
  out.keep = tensor(keep, want, input.dtype());
  return out;
}

Tensor picked_nll(const Tensor& log_probs, const ClassTargets& targets) {
  const Tensor picked = squeeze(gather(log_probs, 1, targets.gather_index), 1);
  Tensor loss = targets.weighted ? neg(mul(picked, targets.sample_weight)) : neg(picked);
  // where, not a product with the 0/1 mask: an ignored row may hold -inf at class 0.
  if (targets.any_ignored) loss = where(targets.keep, loss, scalar_tensor(0.0, loss.dtype()));
  return loss;
}

}  // namespace descent::loss_detail
