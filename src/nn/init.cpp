#include "descent/nn/init.h"

#include <cmath>
#include <string>

#include "internal/check.h"
#include "nn/assign.h"

namespace descent::nn::init {

namespace {
void check_floating(const Tensor& tensor, std::string_view fn) {
  DESCENT_CHECK_VALUE(tensor.defined(), "{}: the tensor is undefined", fn);
  DESCENT_CHECK_DTYPE(is_floating(tensor.dtype()), "{}: expected a floating tensor, got {}", fn,
                      dtype_name(tensor.dtype()));
}

// Fills tensor with values drawn one after the other in row-major order (double precision, then
// rounded once to the tensor's dtype).
template <typename Draw>
Tensor fill(const Tensor& tensor, Draw draw) {
  Tensor values = empty(tensor.shape(), kFloat64);
  double* p = values.data_ptr<double>();
  draw(p, values.numel());
  detail::assign(tensor, values);
  return tensor;
}

std::int64_t fan(const Tensor& tensor, std::string_view mode, std::string_view fn) {
  const Fans fans = calculate_fan_in_and_fan_out(tensor);
  if (mode == "fan_in") return fans.fan_in;
  if (mode == "fan_out") return fans.fan_out;
  throw ValueError(fmt::format("{}: mode must be \"fan_in\" or \"fan_out\", got \"{}\"", fn, mode));
}
}  // namespace

double calculate_gain(std::string_view nonlinearity, std::optional<double> param) {
  for (std::string_view linear : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                  "conv_transpose3d", "sigmoid"}) {
    if (nonlinearity == linear) return 1.0;
  }
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  throw ValueError(fmt::format("calculate_gain: unsupported nonlinearity \"{}\"", nonlinearity));
}

Fans calculate_fan_in_and_fan_out(const Tensor& tensor) {
  DESCENT_CHECK_VALUE(tensor.defined() && tensor.dim() >= 2,
                      "calculate_fan_in_and_fan_out: fan in and fan out can not be computed for a tensor with fewer "
                      "than 2 dimensions (shape {})",
                      tensor.defined() ? tensor.shape() : Shape{});
  std::int64_t receptive = 1;
  for (std::int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

Tensor uniform_(const Tensor& tensor, double a, double b, Generator& generator) {
  check_floating(tensor, "uniform_");
  DESCENT_CHECK_VALUE(a <= b, "uniform_: expected a <= b, got a={} b={}", a, b);
  return fill(tensor, [&](double* p, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) p[i] = a + (b - a) * generator.uniform();
  });
}

Tensor normal_(const Tensor& tensor, double mean, double std, Generator& generator) {
  check_floating(tensor, "normal_");
  DESCENT_CHECK_VALUE(std >= 0.0, "normal_: expected std >= 0, got {}", std);
  return fill(tensor, [&](double* p, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 1 < n; i += 2) {  // pairs, as randn draws them
      const auto pair = generator.normal_pair();
      p[i] = mean + std * pair[0];
      p[i + 1] = mean + std * pair[1];
    }
    if (i < n) p[i] = mean + std * generator.normal();
  });
}

Tensor constant_(const Tensor& tensor, double value) {
  DESCENT_CHECK_VALUE(tensor.defined(), "constant_: the tensor is undefined");
  detail::assign(tensor, scalar_tensor(value, kFloat64));
  return tensor;
}

Tensor zeros_(const Tensor& tensor) { return constant_(tensor, 0.0); }
Tensor ones_(const Tensor& tensor) { return constant_(tensor, 1.0); }

Tensor xavier_uniform_(const Tensor& tensor, double gain, Generator& generator) {
  check_floating(tensor, "xavier_uniform_");
  const Fans fans = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  const double a = std::sqrt(3.0) * std;
  return uniform_(tensor, -a, a, generator);
}

Tensor xavier_normal_(const Tensor& tensor, double gain, Generator& generator) {
  check_floating(tensor, "xavier_normal_");
  const Fans fans = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fans.fan_in + fans.fan_out));
  return normal_(tensor, 0.0, std, generator);
}

Tensor kaiming_uniform_(const Tensor& tensor, double a, std::string_view mode, std::string_view nonlinearity,
                        Generator& generator) {
  check_floating(tensor, "kaiming_uniform_");
  if (tensor.numel() == 0) return tensor;  // PyTorch warns and does nothing
  const double gain = calculate_gain(nonlinearity, a);
  const double std = gain / std::sqrt(static_cast<double>(fan(tensor, mode, "kaiming_uniform_")));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(tensor, -bound, bound, generator);
}

Tensor kaiming_normal_(const Tensor& tensor, double a, std::string_view mode, std::string_view nonlinearity,
                       Generator& generator) {
  check_floating(tensor, "kaiming_normal_");
  if (tensor.numel() == 0) return tensor;
  const double gain = calculate_gain(nonlinearity, a);
  const double std = gain / std::sqrt(static_cast<double>(fan(tensor, mode, "kaiming_normal_")));
  return normal_(tensor, 0.0, std, generator);
}

}  // namespace descent::nn::init
