#pragma once
// Conv2d, as torch.nn.Conv2d.

#include <cstdint>

#include "descent/core/generator.h"
#include "descent/nn/module.h"
#include "descent/ops/conv.h"

namespace descent::nn {

struct Conv2dOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  Size2d kernel_size = 0;
  Size2d stride = 1;
  Size2d padding = 0;
  Size2d dilation = 1;
  std::int64_t groups = 1;  // must divide in_channels and out_channels
  bool bias = true;
  DType dtype = kFloat32;
};

/// The conv2d op with a learned weight [out_channels, in_channels / groups, kH, kW] and bias
/// [out_channels], initialized as PyTorch does: kaiming_uniform_(a = sqrt(5)), i.e.
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW, and the same
/// bound for the bias. Input [N, in_channels, H, W] or [in_channels, H, W].
///
///   Conv2d conv({.in_channels = 1, .out_channels = 32, .kernel_size = 3, .padding = 1});
///   Tensor y = conv(x);  // [64, 1, 28, 28] -> [64, 32, 28, 28]
class Conv2d : public Module {
 public:
  /// ValueError for non-positive sizes or groups that do not divide the channels.
  explicit Conv2d(const Conv2dOptions& options);
  Conv2d(const Conv2dOptions& options, Generator& generator);

  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  void reset_parameters(Generator& generator = default_generator());
  /// The output shape for an input of shape [N, C, H, W] or [C, H, W]; ShapeError naming the
  /// layer and the shape when it does not fit (wrong channel count, image smaller than the kernel).
  Shape output_shape(const Shape& input_shape) const;

  const Conv2dOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias

 private:
  Conv2dOptions options_;
  Tensor weight_, bias_;
};

}  // namespace descent::nn
