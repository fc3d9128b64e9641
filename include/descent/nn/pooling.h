#pragma once
// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, as their torch.nn namesakes (no parameters).

#include "descent/nn/module.h"
#include "descent/ops/conv.h"

namespace descent::nn {

using MaxPool2dOptions = MaxPool2dParams;
using AvgPool2dOptions = AvgPool2dParams;

/// max_pool2d with the options; input [N, C, H, W] or [C, H, W].
///
///   MaxPool2d pool({.kernel_size = 2});  // [64, 32, 28, 28] -> [64, 32, 14, 14]
class MaxPool2d : public Module {
 public:
  /// ValueError for a non-positive kernel, stride or dilation, or padding over half the kernel.
  explicit MaxPool2d(const MaxPool2dOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  /// The output shape for an input shape; ShapeError naming the layer when the image is too small.
  Shape output_shape(const Shape& input_shape) const;
  const MaxPool2dOptions& options() const { return options_; }

 private:
  MaxPool2dOptions options_;
};

/// avg_pool2d with the options; input [N, C, H, W] or [C, H, W].
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  Shape output_shape(const Shape& input_shape) const;
  const AvgPool2dOptions& options() const { return options_; }

 private:
  AvgPool2dOptions options_;
};

struct AdaptiveAvgPool2dOptions {
  Size2d output_size = 1;
};

/// adaptive_avg_pool2d to a fixed output size (1 = global average pooling).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  Shape output_shape(const Shape& input_shape) const;
  const AdaptiveAvgPool2dOptions& options() const { return options_; }

 private:
  AdaptiveAvgPool2dOptions options_;
};

}  // namespace descent::nn
