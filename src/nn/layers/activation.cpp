// Activation modules: thin wrappers of the ops in descent/ops/activation.h.

#include "descent/nn/activation.h"

#include "descent/nn/init.h"
#include "descent/ops/activation.h"
#include "nn/assign.h"
#include "nn/layers/common.h"

namespace descent::nn {

Tensor ReLU::forward(const Tensor& input) { return relu(input); }

Tensor LeakyReLU::forward(const Tensor& input) { return leaky_relu(input, options_.negative_slope); }
std::string LeakyReLU::extra_repr() const { return "negative_slope=" + detail::py_float(options_.negative_slope); }

PReLU::PReLU(const PReLUOptions& options) : options_(options) {
  DESCENT_CHECK_VALUE(options.num_parameters > 0, "PReLU: num_parameters must be positive, got {}",
                      options.num_parameters);
  DESCENT_CHECK_DTYPE(is_floating(options.dtype), "PReLU: dtype must be floating, got {}", dtype_name(options.dtype));
  weight_ = register_parameter("weight", full({options.num_parameters}, options.init, options.dtype));
}

Tensor PReLU::forward(const Tensor& input) {
  detail::check_input(*this, input, weight_);
  const std::int64_t channels = input.dim() >= 2 ? input.size(1) : 1;
  DESCENT_CHECK_SHAPE(options_.num_parameters == 1 || options_.num_parameters == channels,
                      "{}: input of shape {} has {} channels (dim 1), but num_parameters is {}", name(), input.shape(),
                      channels, options_.num_parameters);
  return prelu(input, weight_);
}
std::string PReLU::extra_repr() const { return fmt::format("num_parameters={}", options_.num_parameters); }

Tensor ELU::forward(const Tensor& input) { return elu(input, options_.alpha); }
std::string ELU::extra_repr() const { return "alpha=" + detail::py_float(options_.alpha); }

GELU::GELU(const GELUOptions& options) : options_(options) {
  DESCENT_CHECK_VALUE(options.approximate == "none" || options.approximate == "tanh",
                      "GELU: approximate must be \"none\" or \"tanh\", got \"{}\"", options.approximate);
}
Tensor GELU::forward(const Tensor& input) { return gelu(input, options_.approximate); }
std::string GELU::extra_repr() const { return "approximate='" + options_.approximate + "'"; }

Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(input); }

Tensor Tanh::forward(const Tensor& input) { return tanh(input); }

Softmax::Softmax(const SoftmaxOptions& options) : options_(options) {
  DESCENT_CHECK_VALUE(options.dim.has_value(), "Softmax: dim must be given, e.g. Softmax({{.dim = 1}})");
}
Tensor Softmax::forward(const Tensor& input) { return softmax(input, *options_.dim); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", *options_.dim); }

LogSoftmax::LogSoftmax(const LogSoftmaxOptions& options) : options_(options) {
  DESCENT_CHECK_VALUE(options.dim.has_value(), "LogSoftmax: dim must be given, e.g. LogSoftmax({{.dim = 1}})");
}
Tensor LogSoftmax::forward(const Tensor& input) { return log_softmax(input, *options_.dim); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", *options_.dim); }

}  // namespace descent::nn
