// linear: y = x W^T + b as one node. The forward writes the bias into the output rows and lets the
// GEMM accumulate onto them (beta = 1); W^T is W's transposed view, which the BLAS reads as is.

#include "descent/autograd/node.h"
#include "descent/ops/linalg.h"
#include "internal/check.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"

namespace descent {

namespace {
struct LinearBackward final : Node {
  LinearBackward() : Node("linear") {}
  Tensor x2;      // the input as an [M, in] matrix (a view of it whenever the strides allow)
  Tensor weight;  // [out, in]
  Shape x_shape;
  std::int64_t rows = 0, in = 0, out = 0;
  // y = x W^T + b (rows of x flattened to [M, in]):
  //   dL/dx = g W  ([M, out] x [out, in]),  dL/dW = g^T x  ([out, M] x [M, in]),  dL/db = sum_rows g
  std::vector<Tensor> apply(const Tensor& gy) override {
    const Tensor g2 = gy.reshape({rows, out});  // a view of the contiguous gradients the engine passes
    Tensor gx, gw, gb;
    if (needs_grad(0)) {
      gx = empty(x_shape, gy.dtype());
      kernels::batched_gemm(g2, weight, gx.view({rows, in}));
    }
    if (needs_grad(1)) {
      gw = empty({out, in}, gy.dtype());
      kernels::batched_gemm(g2.transpose(0, 1), x2, gw);
    }
    if (needs_grad(2)) gb = kernels::reduce(g2, {0}, kernels::ReduceKind::Sum, "linear").view({out});
    return {gx, gw, gb};
  }
  void release_saved() override { x2 = weight = Tensor(); }
};
}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  DESCENT_CHECK_SHAPE(weight.dim() == 2, "linear: weight must be 2-D [out_features, in_features], got shape {}",
                      weight.shape());
  DESCENT_CHECK_SHAPE(x.dim() >= 1, "linear: input must have at least 1 dimension [..., in_features], got shape {}",
                      x.shape());
  kernels::check_same_dtype(x, weight, "linear");
  DESCENT_CHECK_DTYPE(is_floating(x.dtype()), "linear: expected a floating dtype, got {}", dtype_name(x.dtype()));
  const std::int64_t out = weight.size(0);
  const std::int64_t in = weight.size(1);
  DESCENT_CHECK_SHAPE(x.size(-1) == in,
                      "linear: input of shape {} has {} features, but the weight of shape {} expects {}", x.shape(),
                      x.size(-1), weight.shape(), in);
  if (bias.defined()) {
    kernels::check_same_dtype(x, bias, "linear");
    DESCENT_CHECK_SHAPE(bias.dim() == 1 && bias.size(0) == out,
                        "linear: bias must have shape [{}] (out_features of the weight {}), got {}", out,
                        weight.shape(), bias.shape());
  }
  Shape y_shape(x.shape().begin(), x.shape().end() - 1);
  const std::int64_t rows = numel(y_shape);  // x flattened to [rows, in]
  y_shape.push_back(out);
  Tensor y = empty(y_shape, x.dtype());
  const Tensor y2 = y.view({rows, out});
  const Tensor x2 = x.detach().reshape({rows, in});  // a view unless x's strides forbid one
  if (bias.defined()) kernels::copy_into(y2, bias.detach());
  kernels::batched_gemm(x2, weight.detach().transpose(0, 1), y2, bias.defined() ? 1.0 : 0.0);

  if (auto node = make_node<LinearBackward>({&x, &weight, &bias})) {
    if (node->needs_grad(0)) node->weight = weight.detach();
    if (node->needs_grad(1)) node->x2 = x2;
    node->x_shape = x.shape();
    node->rows = rows;
    node->in = in;
    node->out = out;
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
