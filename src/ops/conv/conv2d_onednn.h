#pragma once
// conv2d on oneDNN's convolution primitives (float32), the default path when descent is built with
// oneDNN: docs/benchmarks.md ("Convolution") measured it 1.2-2.7x faster than im2col + GEMM on the
// Fashion-MNIST CNN's layers, forward and training. conv2d.cpp calls it after checking the
// arguments, and falls back to im2col + GEMM when it returns nothing.

#include <cstdint>
#include <optional>

#include "descent/core/tensor.h"
#include "kernels/im2col.h"

namespace descent::detail {

/// y = conv2d(input, weight, bias) on oneDNN, with its backward node recorded when a gradient is
/// needed; std::nullopt when oneDNN is not built in, is turned off (backends::onednn::set_enabled),
/// the dtype is not float32, or oneDNN has no implementation for these shapes. The arguments are
/// already checked; geo describes input and weight.
std::optional<Tensor> conv2d_onednn(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                    const kernels::ConvGeometry& geo, std::int64_t groups);

}  // namespace descent::detail
