// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d: the pooling ops with their options, checked when the
// layer is built and on every input, with errors that name the layer.

#include "descent/nn/pooling.h"

#include <fmt/format.h>

#include "ops/conv/pool_util.h"

namespace descent::nn {

namespace {

// PyTorch prints a size as the user gave it: an int or a tuple. We cannot tell, so a square size
// prints as an int ("2") and any other as a tuple ("(2, 3)").
std::string size_repr(const Size2d& s) { return s.h == s.w ? std::to_string(s.h) : descent::to_string(s); }

const char* py_bool(bool b) { return b ? "True" : "False"; }

}  // namespace

MaxPool2d::MaxPool2d(const MaxPool2dOptions& options) : options_(options) {
  pool::check_window("MaxPool2d", options.kernel_size, options.stride.value_or(options.kernel_size), options.padding,
                     options.dilation);
}

Shape MaxPool2d::output_shape(const Shape& input_shape) const {
  const MaxPool2dOptions& o = options_;
  pool::check_shape(input_shape, name(), false);
  const pool::Geometry g = pool::window_geometry(input_shape, name(), o.kernel_size, o.stride.value_or(o.kernel_size),
                                                 o.padding, o.dilation, o.ceil_mode);
  return pool::output_shape(input_shape, g.out_h, g.out_w);
}

Tensor MaxPool2d::forward(const Tensor& input) {
  pool::check_input(input, name(), false);
  output_shape(input.shape());  // errors that name this layer, before the op's own
  return max_pool2d(input, options_);
}

std::string MaxPool2d::extra_repr() const {
  const MaxPool2dOptions& o = options_;
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}", size_repr(o.kernel_size),
                     size_repr(o.stride.value_or(o.kernel_size)), size_repr(o.padding), size_repr(o.dilation),
                     py_bool(o.ceil_mode));
}

AvgPool2d::AvgPool2d(const AvgPool2dOptions& options) : options_(options) {
  pool::check_window("AvgPool2d", options.kernel_size, options.stride.value_or(options.kernel_size), options.padding,
                     1);
  DESCENT_CHECK_VALUE(!options.divisor_override || *options.divisor_override != 0,
                      "AvgPool2d: divisor_override must not be zero");
}

Shape AvgPool2d::output_shape(const Shape& input_shape) const {
  const AvgPool2dOptions& o = options_;
  pool::check_shape(input_shape, name(), false);
  const pool::Geometry g = pool::window_geometry(input_shape, name(), o.kernel_size, o.stride.value_or(o.kernel_size),
                                                 o.padding, 1, o.ceil_mode);
  return pool::output_shape(input_shape, g.out_h, g.out_w);
}

Tensor AvgPool2d::forward(const Tensor& input) {
  pool::check_input(input, name(), false);
  output_shape(input.shape());
  return avg_pool2d(input, options_);
}

std::string AvgPool2d::extra_repr() const {
  // PyTorch 1.13 prints neither ceil_mode, count_include_pad nor divisor_override.
  const AvgPool2dOptions& o = options_;
  return fmt::format("kernel_size={}, stride={}, padding={}", size_repr(o.kernel_size),
                     size_repr(o.stride.value_or(o.kernel_size)), size_repr(o.padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options) : options_(options) {
  DESCENT_CHECK_VALUE(options.output_size.h >= 0 && options.output_size.w >= 0,
                      "AdaptiveAvgPool2d: output_size must be >= 0, got {}", descent::to_string(options.output_size));
}

Shape AdaptiveAvgPool2d::output_shape(const Shape& input_shape) const {
  pool::check_shape(input_shape, name(), true);
  return pool::output_shape(input_shape, options_.output_size.h, options_.output_size.w);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
  pool::check_input(input, name(), true);
  return adaptive_avg_pool2d(input, options_.output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const { return "output_size=" + size_repr(options_.output_size); }

}  // namespace descent::nn
