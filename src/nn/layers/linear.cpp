// Linear, Flatten (Identity is inline in the header).

#include "descent/nn/linear.h"

#include <algorithm>
#include <cmath>

#include "descent/autograd/grad_mode.h"
#include "descent/nn/init.h"
#include "descent/ops/linalg.h"
#include "descent/ops/shape.h"
#include "nn/layers/common.h"

namespace descent::nn {

Linear::Linear(const LinearOptions& options) : Linear(options, default_generator()) {}

Linear::Linear(const LinearOptions& options, Generator& generator) : options_(options) {
  DESCENT_CHECK_VALUE(options.in_features >= 0 && options.out_features >= 0,
                      "Linear: in_features and out_features must be >= 0, got {} and {}", options.in_features,
                      options.out_features);
  DESCENT_CHECK_DTYPE(is_floating(options.dtype), "Linear: dtype must be floating, got {}", dtype_name(options.dtype));
  weight_ = register_parameter("weight", empty({options.out_features, options.in_features}, options.dtype));
  if (options.bias) bias_ = register_parameter("bias", empty({options.out_features}, options.dtype));
  reset_parameters(generator);
}

void Linear::reset_parameters(Generator& generator) {
  // PyTorch: kaiming_uniform_(weight, a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the
  // same bound for the bias.
  init::kaiming_uniform_(weight_, std::sqrt(5.0), "fan_in", "leaky_relu", generator);
  if (bias_.defined()) {
    const double bound = options_.in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(options_.in_features)) : 0.0;
    init::uniform_(bias_, -bound, bound, generator);
  }
}

Tensor Linear::forward(const Tensor& input) {
  detail::check_input(*this, input, weight_);
  DESCENT_CHECK_SHAPE(input.dim() >= 1 && input.size(-1) == options_.in_features,
                      "{}: input of shape {} has {} features, expected {}", name(), input.shape(),
                      input.dim() >= 1 ? input.size(-1) : 0, options_.in_features);
  return linear(input, weight_, bias_);
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", options_.in_features, options_.out_features,
                     options_.bias);
}

Tensor Flatten::forward(const Tensor& input) {
  DESCENT_CHECK_VALUE(input.defined(), "{}: the input is an undefined tensor", name());
  // A 0-d input counts as 1-D for the dims (as PyTorch wraps them) and becomes [1].
  const std::int64_t nd = std::max<std::int64_t>(input.dim(), 1);
  const auto in_range = [nd](std::int64_t d) { return d >= -nd && d < nd; };
  DESCENT_CHECK_SHAPE(in_range(options_.start_dim) && in_range(options_.end_dim),
                      "{}: for an input of shape {}, start_dim and end_dim must lie in [{}, {}]", name(), input.shape(),
                      -nd, nd - 1);
  if (input.dim() == 0) return reshape(input, {1});
  const std::int64_t start = options_.start_dim < 0 ? options_.start_dim + nd : options_.start_dim;
  const std::int64_t end = options_.end_dim < 0 ? options_.end_dim + nd : options_.end_dim;
  DESCENT_CHECK_SHAPE(start <= end, "{}: for input of shape {}, start_dim {} comes after end_dim {}", name(),
                      input.shape(), start, end);
  return flatten(input, start, end);
}

std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", options_.start_dim, options_.end_dim);
}

}  // namespace descent::nn
