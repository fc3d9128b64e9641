// BatchNorm1d and BatchNorm2d on the fused batch_norm op; LayerNorm composed of differentiable ops.

#include "descent/nn/normalization.h"

#include "descent/nn/init.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/normalization.h"
#include "descent/ops/reduce.h"
#include "nn/assign.h"
#include "nn/layers/common.h"

namespace descent::nn {

// --- BatchNorm1d, BatchNorm2d ----------------------------------------------------------------------------------

BatchNormBase::BatchNormBase(const BatchNormOptions& options, const char* kind, std::int64_t min_dim,
                             std::int64_t max_dim)
    : options_(options), min_dim_(min_dim), max_dim_(max_dim) {
  DESCENT_CHECK_VALUE(options.num_features > 0, "{}: num_features must be positive, got {}", kind,
                      options.num_features);
  DESCENT_CHECK_VALUE(options.eps >= 0.0, "{}: eps must be >= 0, got {}", kind, options.eps);
  DESCENT_CHECK_DTYPE(is_floating(options.dtype), "{}: dtype must be floating, got {}", kind,
                      dtype_name(options.dtype));
  const Shape c{options.num_features};
  if (options.affine) {
    weight_ = register_parameter("weight", ones(c, options.dtype));
    bias_ = register_parameter("bias", zeros(c, options.dtype));
  }
  if (options.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros(c, options.dtype));
    running_var_ = register_buffer("running_var", ones(c, options.dtype));
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

void BatchNormBase::reset_running_stats() {
  if (!options_.track_running_stats) return;
  init::zeros_(running_mean_);
  init::ones_(running_var_);
  init::zeros_(num_batches_tracked_);
}

Tensor BatchNormBase::forward(const Tensor& x) {
  detail::check_input(*this, x, weight_.defined() ? weight_ : running_mean_);
  const std::int64_t c = options_.num_features;
  DESCENT_CHECK_SHAPE(x.dim() >= min_dim_ && x.dim() <= max_dim_ && x.size(1) == c,
                      "{}: expected an input of shape {}, got {}", name(),
                      max_dim_ == 3 ? fmt::format("[N, {0}] or [N, {0}, L]", c) : fmt::format("[N, {}, H, W]", c),
                      x.shape());
  // Batch statistics in training mode, and always without running statistics (as PyTorch's
  // bn_training); the running statistics move only in training mode.
  const bool batch_stats = is_training() || !options_.track_running_stats;
  DESCENT_CHECK_VALUE(!batch_stats || x.numel() / c > 1,
                      "{}: expected more than 1 value per channel when training, got input of shape {}", name(),
                      x.shape());
  const bool update = is_training() && options_.track_running_stats;
  const double count = update ? num_batches_tracked_.item() + 1 : 0.0;
  // momentum = None: a cumulative average, the k-th batch weighted 1 / k.
  const double factor = options_.momentum ? *options_.momentum : (update ? 1.0 / count : 0.0);
  Tensor y = batch_norm(x, running_mean_, running_var_, weight_, bias_, batch_stats, factor, options_.eps);
  if (update) detail::assign(num_batches_tracked_, scalar_tensor(count, kInt64));
  return y;
}

std::string BatchNormBase::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", options_.num_features,
                     detail::py_float(options_.eps),
                     options_.momentum ? detail::py_float(*options_.momentum) : std::string("None"), options_.affine,
                     options_.track_running_stats);
}

// --- LayerNorm ------------------------------------------------------------------------------------

LayerNorm::LayerNorm(const LayerNormOptions& options) : options_(options) {
  for (std::int64_t s : options.normalized_shape) {
    DESCENT_CHECK_VALUE(s > 0, "LayerNorm: normalized_shape must have positive sizes, got {}", options.normalized_shape);
  }
  DESCENT_CHECK_VALUE(options.eps >= 0.0, "LayerNorm: eps must be >= 0, got {}", options.eps);
  DESCENT_CHECK_DTYPE(is_floating(options.dtype), "LayerNorm: dtype must be floating, got {}",
                      dtype_name(options.dtype));
  if (options.elementwise_affine) {
    weight_ = register_parameter("weight", ones(options.normalized_shape, options.dtype));
    if (options.bias) bias_ = register_parameter("bias", zeros(options.normalized_shape, options.dtype));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  detail::check_input(*this, x, weight_);
  const Shape& ns = options_.normalized_shape;
  const auto k = static_cast<std::int64_t>(ns.size());
  const bool fits = x.dim() >= k && Shape(x.shape().end() - k, x.shape().end()) == ns;
  DESCENT_CHECK_SHAPE(fits, "{}: input of shape {} does not end with normalized_shape {}", name(), x.shape(), ns);
  std::vector<std::int64_t> dims;
  for (std::int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  // With an empty normalized_shape each element is its own group (dims is empty: mean = x, var = 0).
  const Tensor mean = descent::mean(x, dims, true);
  const Tensor var = descent::var(x, dims, 0.0, true);
  Tensor y = div(sub(x, mean), sqrt(add(var, options_.eps)));
  if (weight_.defined()) y = mul(y, weight_);
  if (bias_.defined()) y = add(y, bias_);
  return y;
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", options_.normalized_shape, detail::py_float(options_.eps),
                     options_.elementwise_affine) +
         (options_.elementwise_affine && !options_.bias ? ", bias=false" : "");
}

}  // namespace descent::nn
