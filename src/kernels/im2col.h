#pragma once
// The data-movement kernels of im2col convolution: a convolution becomes one GEMM per group once
// every receptive field is unrolled into a column of a matrix ("im2col"), and its input gradient
// is the reverse scatter ("col2im"). Layout of the column matrix (rows, cols) = (C * kH * kW, N * L)
// with L = oH * oW: row (c, kh, kw), column (n, oh, ow). Putting the batch in the columns makes
// each group's product a single large GEMM, which the BLAS runs far closer to its peak than N
// small ones.

#include <cstdint>

#include "descent/core/tensor.h"

namespace descent::kernels {

/// The shape arithmetic of one conv2d call.
struct ConvGeometry {
  std::int64_t batch = 0, channels = 0, height = 0, width = 0;  // input [N, C, H, W]
  std::int64_t kernel_h = 0, kernel_w = 0;
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  std::int64_t out_h = 0, out_w = 0;

  std::int64_t col_rows() const { return channels * kernel_h * kernel_w; }
  std::int64_t col_cols() const { return batch * out_h * out_w; }
};

/// col [C * kH * kW, N * oH * oW] from the contiguous input x [N, C, H, W] (zeros where a window
/// reaches into the padding). col is contiguous and has x's dtype.
void im2col(const Tensor& x, const ConvGeometry& g, const Tensor& col);

/// gx [N, C, H, W] (contiguous, overwritten) = the sum, over every column entry, of col's value
/// into the input element it was read from: the adjoint of im2col.
void col2im(const Tensor& col, const ConvGeometry& g, const Tensor& gx);

/// y [N, O, L] = ym [O, N * L] regrouped by sample, plus bias[o] when bias is defined.
void columns_to_batch(const Tensor& ym, const Tensor& bias, std::int64_t batch, const Tensor& y);

/// gm [O, N * L] = gy [N, O, L] regrouped by channel; gb [O] (when defined) = the sum of each
/// channel's gradients over the batch and positions, taken in the same pass.
void batch_to_columns(const Tensor& gy, const Tensor& gm, const Tensor& gb);

}  // namespace descent::kernels
