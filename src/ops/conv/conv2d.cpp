// conv2d: float32 on oneDNN when descent is built with it (conv2d_onednn.h); otherwise, and for
// float64, im2col + one GEMM per group (src/kernels/im2col.h), recorded as one node. The column
// matrix of the forward pass is kept for the weight gradient, which is then a single GEMM.
// docs/benchmarks.md compares these with a direct convolution kernel.

#include "descent/autograd/node.h"
#include "descent/ops/conv.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "ops/conv/conv2d_onednn.h"

namespace descent {

namespace {

// Rows [g * size, (g + 1) * size) of a matrix: group g's block.
Tensor group_rows(const Tensor& m, std::int64_t g, std::int64_t size) { return m.slice(0, g * size, (g + 1) * size); }

struct Conv2dBackward final : Node {
  Conv2dBackward() : Node("conv2d") {}
  Tensor col;      // [C * kH * kW, N * L], kept when the weight gradient is needed
  Tensor weight2;  // [O, C / groups * kH * kW], kept when the input gradient is needed
  kernels::ConvGeometry geo;
  std::int64_t groups = 1, out_channels = 0;
  Shape weight_shape;

  // With Ym = W_g col_g per group g (Ym [O, N * L], regrouped into y [N, O, oH, oW]):
  //   dL/dW_g = dYm_g col_g^T,  dL/dcol_g = W_g^T dYm_g (then col2im),  dL/db = sum over N and L of dy.
  std::vector<Tensor> apply(const Tensor& gy) override {
    const std::int64_t n = geo.batch, l = geo.out_h * geo.out_w, o = out_channels;
    const std::int64_t o_group = o / groups, k_group = geo.col_rows() / groups;
    Tensor gm = empty({o, n * l}, gy.dtype());
    Tensor gb = needs_grad(2) ? empty({o}, gy.dtype()) : Tensor();
    kernels::batch_to_columns(gy.contiguous().view({n, o, l}), gm, gb);
    Tensor gx, gw;
    if (needs_grad(1)) {
      gw = empty({o, k_group}, gy.dtype());
      for (std::int64_t g = 0; g < groups; ++g) {
        kernels::batched_gemm(group_rows(gm, g, o_group), group_rows(col, g, k_group).transpose(0, 1),
                              group_rows(gw, g, o_group));
      }
      gw = gw.view(weight_shape);
    }
    if (needs_grad(0)) {
      const Tensor gcol = empty({geo.col_rows(), n * l}, gy.dtype());
      for (std::int64_t g = 0; g < groups; ++g) {
        kernels::batched_gemm(group_rows(weight2, g, o_group).transpose(0, 1), group_rows(gm, g, o_group),
                              group_rows(gcol, g, k_group));
      }
      gx = empty({n, geo.channels, geo.height, geo.width}, gy.dtype());
      kernels::col2im(gcol, geo, gx);
    }
    return {gx, gw, gb};
  }
  void release_saved() override { col = weight2 = Tensor(); }
};

void check_params(const Conv2dParams& p) {
  DESCENT_CHECK_VALUE(p.stride.h > 0 && p.stride.w > 0, "conv2d: stride must be positive, got {}", to_string(p.stride));
  DESCENT_CHECK_VALUE(p.padding.h >= 0 && p.padding.w >= 0, "conv2d: padding must be >= 0, got {}",
                      to_string(p.padding));
  DESCENT_CHECK_VALUE(p.dilation.h > 0 && p.dilation.w > 0, "conv2d: dilation must be positive, got {}",
                      to_string(p.dilation));
  DESCENT_CHECK_VALUE(p.groups > 0, "conv2d: groups must be positive, got {}", p.groups);
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Conv2dParams& params) {
  DESCENT_CHECK_VALUE(input.defined() && weight.defined(), "conv2d: the input and the weight must be defined");
  DESCENT_CHECK_SHAPE(input.dim() == 3 || input.dim() == 4,
                      "conv2d: expected an input of shape [N, C, H, W] or [C, H, W], got {}", input.shape());
  if (input.dim() == 3) return squeeze(conv2d(unsqueeze(input, 0), weight, bias, params), 0);
  DESCENT_CHECK_SHAPE(weight.dim() == 4,
                      "conv2d: expected a weight of shape [out_channels, in_channels / groups, kH, kW], got {}",
                      weight.shape());
  check_params(params);
  kernels::check_same_dtype(input, weight, "conv2d");
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "conv2d: expected a floating dtype, got {}",
                      dtype_name(input.dtype()));
  const std::int64_t groups = params.groups;
  const std::int64_t out_channels = weight.size(0);
  DESCENT_CHECK_SHAPE(out_channels % groups == 0,
                      "conv2d: the weight of shape {} has {} output channels, not divisible by groups={}",
                      weight.shape(), out_channels, groups);
  DESCENT_CHECK_SHAPE(input.size(1) == weight.size(1) * groups,
                      "conv2d: input of shape {} has {} channels, but the weight of shape {} with groups={} expects {}",
                      input.shape(), input.size(1), weight.shape(), groups, weight.size(1) * groups);
  if (bias.defined()) {
    kernels::check_same_dtype(input, bias, "conv2d");
    DESCENT_CHECK_SHAPE(bias.dim() == 1 && bias.size(0) == out_channels,
                        "conv2d: bias must have shape [{}] (the output channels of the weight {}), got {}",
                        out_channels, weight.shape(), bias.shape());
  }

  kernels::ConvGeometry geo{.batch = input.size(0), .channels = input.size(1), .height = input.size(2),
                            .width = input.size(3), .kernel_h = weight.size(2), .kernel_w = weight.size(3),
                            .stride_h = params.stride.h, .stride_w = params.stride.w, .pad_h = params.padding.h,
                            .pad_w = params.padding.w, .dilation_h = params.dilation.h,
                            .dilation_w = params.dilation.w};
  geo.out_h = window_output_size(geo.height, geo.kernel_h, geo.stride_h, geo.pad_h, geo.dilation_h);
  geo.out_w = window_output_size(geo.width, geo.kernel_w, geo.stride_w, geo.pad_w, geo.dilation_w);
  DESCENT_CHECK_SHAPE(geo.out_h > 0 && geo.out_w > 0,
                      "conv2d: the kernel {}x{} (dilation {}) does not fit in the input of shape {} padded by {}: the "
                      "output would be {}x{}",
                      geo.kernel_h, geo.kernel_w, to_string(params.dilation), input.shape(),
                      to_string(params.padding), geo.out_h, geo.out_w);

  if (std::optional<Tensor> y = detail::conv2d_onednn(input, weight, bias, geo, groups)) return *y;

  const std::int64_t n = geo.batch, l = geo.out_h * geo.out_w;
  const std::int64_t o_group = out_channels / groups, k_group = geo.col_rows() / groups;
  const Tensor col = empty({geo.col_rows(), n * l}, input.dtype());
  kernels::im2col(input.detach().contiguous(), geo, col);
  const Tensor weight2 = weight.detach().contiguous().view({out_channels, k_group});
  const Tensor ym = empty({out_channels, n * l}, input.dtype());
  for (std::int64_t g = 0; g < groups; ++g) {
    kernels::batched_gemm(group_rows(weight2, g, o_group), group_rows(col, g, k_group), group_rows(ym, g, o_group));
  }
  Tensor y = empty({n, out_channels, geo.out_h, geo.out_w}, input.dtype());
  kernels::columns_to_batch(ym, bias.defined() ? bias.detach().contiguous() : Tensor(), n,
                            y.view({n, out_channels, l}));

  if (auto node = make_node<Conv2dBackward>({&input, &weight, &bias})) {
    if (node->needs_grad(1)) node->col = col;
    if (node->needs_grad(0)) node->weight2 = weight2;
    node->geo = geo;
    node->groups = groups;
    node->out_channels = out_channels;
    node->weight_shape = weight.shape();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
