#pragma once
// 2-D convolution and pooling over NCHW images, as in torch.nn.functional.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "descent/core/tensor.h"

namespace descent {

/// A (height, width) pair for kernel sizes, strides, paddings and dilations. One number means the
/// same for both, as PyTorch's int-or-tuple arguments: `.stride = 2` is (2, 2).
struct Size2d {
  std::int64_t h = 0;
  std::int64_t w = 0;
  constexpr Size2d() = default;
  constexpr Size2d(std::int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor)
  constexpr Size2d(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  friend constexpr bool operator==(const Size2d&, const Size2d&) = default;
};

/// "(h, w)", as PyTorch prints a tuple.
std::string to_string(const Size2d& s);

/// Output length of a sliding window along one dim (PyTorch's formula):
/// floor((in + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1, or with ceil_mode the
/// ceiling, except that the last window must start inside the input or the left padding. 0 when
/// no window fits.
std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                std::int64_t dilation, bool ceil_mode = false);

struct Conv2dParams {
  Size2d stride = 1;
  Size2d padding = 0;  // zeros added on both sides of each spatial dim
  Size2d dilation = 1;
  std::int64_t groups = 1;
};

/// torch.nn.functional.conv2d: input [N, C_in, H, W] (or unbatched [C_in, H, W]), weight
/// [C_out, C_in / groups, kH, kW], optional bias [C_out]; output [N, C_out, H_out, W_out] with
/// H_out = window_output_size(H, kH, stride.h, padding.h, dilation.h). Each group of C_in / groups
/// input channels feeds its C_out / groups output channels. Computed as im2col + one GEMM per
/// group through the BLAS (chosen by benchmark, docs/benchmarks.md); backward gives the input,
/// weight and bias gradients. ShapeError naming both shapes when they do not fit.
///
///   Tensor y = conv2d(x, w, b, {.padding = 1});   // [64, 1, 28, 28] * [32, 1, 3, 3] -> [64, 32, 28, 28]
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), const Conv2dParams& params = {});

struct MaxPool2dParams {
  Size2d kernel_size = 0;
  std::optional<Size2d> stride{};  // nullopt: kernel_size, as PyTorch's stride=None
  Size2d padding = 0;              // implicit -inf padding, at most half the kernel
  Size2d dilation = 1;
  bool ceil_mode = false;
};

/// torch.nn.functional.max_pool2d over [N, C, H, W] or [C, H, W]. The gradient goes to the
/// (first) maximum of each window; NaN counts as the maximum, as in PyTorch.
Tensor max_pool2d(const Tensor& input, const MaxPool2dParams& params);
/// The output and, as int64 of the same shape, each maximum's flat index h * W + w within its
/// (unpadded) input plane, as torch.nn.functional.max_pool2d(..., return_indices=True).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, const MaxPool2dParams& params);

struct AvgPool2dParams {
  Size2d kernel_size = 0;
  std::optional<Size2d> stride{};  // nullopt: kernel_size
  Size2d padding = 0;              // zero padding, at most half the kernel
  bool ceil_mode = false;
  bool count_include_pad = true;              // padded zeros count in the divisor
  std::optional<std::int64_t> divisor_override{};  // a fixed divisor instead of the window size
};

/// torch.nn.functional.avg_pool2d over [N, C, H, W] or [C, H, W].
Tensor avg_pool2d(const Tensor& input, const AvgPool2dParams& params);

/// torch.nn.functional.adaptive_avg_pool2d: output [N, C, oh, ow] (or [C, oh, ow]) whatever the
/// input size; output cell (i, j) averages rows floor(i H / oh) .. ceil((i + 1) H / oh) - 1 and the
/// same for columns. output_size (1, 1) is global average pooling.
Tensor adaptive_avg_pool2d(const Tensor& input, Size2d output_size);

}  // namespace descent
