// Conv2d: the conv2d op with a learned weight and bias.

#include "descent/nn/conv.h"

#include <cmath>

#include "descent/nn/init.h"
#include "nn/layers/common.h"

namespace descent::nn {

Conv2d::Conv2d(const Conv2dOptions& options) : Conv2d(options, default_generator()) {}

Conv2d::Conv2d(const Conv2dOptions& options, Generator& generator) : options_(options) {
  const Conv2dOptions& o = options;
  DESCENT_CHECK_VALUE(o.in_channels > 0 && o.out_channels > 0,
                      "Conv2d: in_channels and out_channels must be positive, got {} and {}", o.in_channels,
                      o.out_channels);
  DESCENT_CHECK_VALUE(o.kernel_size.h > 0 && o.kernel_size.w > 0, "Conv2d: kernel_size must be positive, got {}",
                      descent::to_string(o.kernel_size));
  DESCENT_CHECK_VALUE(o.stride.h > 0 && o.stride.w > 0, "Conv2d: stride must be positive, got {}", descent::to_string(o.stride));
  DESCENT_CHECK_VALUE(o.padding.h >= 0 && o.padding.w >= 0, "Conv2d: padding must be >= 0, got {}",
                      descent::to_string(o.padding));
  DESCENT_CHECK_VALUE(o.dilation.h > 0 && o.dilation.w > 0, "Conv2d: dilation must be positive, got {}",
                      descent::to_string(o.dilation));
  DESCENT_CHECK_VALUE(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
                      "Conv2d: groups={} must divide in_channels={} and out_channels={}", o.groups, o.in_channels,
                      o.out_channels);
  DESCENT_CHECK_DTYPE(is_floating(o.dtype), "Conv2d: dtype must be floating, got {}", dtype_name(o.dtype));
  weight_ = register_parameter(
      "weight", empty({o.out_channels, o.in_channels / o.groups, o.kernel_size.h, o.kernel_size.w}, o.dtype));
  if (o.bias) bias_ = register_parameter("bias", empty({o.out_channels}, o.dtype));
  reset_parameters(generator);
}

void Conv2d::reset_parameters(Generator& generator) {
  // PyTorch: kaiming_uniform_(weight, a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
  // fan_in = in_channels / groups * kH * kW, and the same bound for the bias.
  init::kaiming_uniform_(weight_, std::sqrt(5.0), "fan_in", "leaky_relu", generator);
  if (bias_.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::calculate_fan_in_and_fan_out(weight_).fan_in));
    init::uniform_(bias_, -bound, bound, generator);
  }
}

Shape Conv2d::output_shape(const Shape& s) const {
  const Conv2dOptions& o = options_;
  const auto d = static_cast<std::int64_t>(s.size());
  DESCENT_CHECK_SHAPE((d == 3 || d == 4) && s[d - 3] == o.in_channels,
                      "{}: expected an input of shape [N, {}, H, W] or [{}, H, W], got {}", name(), o.in_channels,
                      o.in_channels, s);
  const std::int64_t h = window_output_size(s[d - 2], o.kernel_size.h, o.stride.h, o.padding.h, o.dilation.h);
  const std::int64_t w = window_output_size(s[d - 1], o.kernel_size.w, o.stride.w, o.padding.w, o.dilation.w);
  DESCENT_CHECK_SHAPE(h > 0 && w > 0,
                      "{}: the input of shape {} is too small for the kernel {} (padding {}, dilation {}): the output "
                      "would be {}x{}",
                      name(), s, descent::to_string(o.kernel_size), descent::to_string(o.padding), descent::to_string(o.dilation), h, w);
  Shape out(s.begin(), s.end() - 3);
  out.insert(out.end(), {o.out_channels, h, w});
  return out;
}

Tensor Conv2d::forward(const Tensor& input) {
  detail::check_input(*this, input, weight_);
  output_shape(input.shape());  // errors that name this layer, before the op's own
  const Conv2dOptions& o = options_;
  return conv2d(input, weight_, bias_, {.stride = o.stride, .padding = o.padding, .dilation = o.dilation,
                                        .groups = o.groups});
}

std::string Conv2d::extra_repr() const {
  // PyTorch's format: sizes as tuples; padding, dilation, groups and bias only when not the default.
  const Conv2dOptions& o = options_;
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", o.in_channels, o.out_channels,
                              descent::to_string(o.kernel_size), descent::to_string(o.stride));
  if (!(o.padding == Size2d(0))) s += ", padding=" + descent::to_string(o.padding);
  if (!(o.dilation == Size2d(1))) s += ", dilation=" + descent::to_string(o.dilation);
  if (o.groups != 1) s += fmt::format(", groups={}", o.groups);
  if (!o.bias) s += ", bias=False";
  return s;
}

}  // namespace descent::nn
