// linear: y = x W^T + b as one node. The forward writes the bias into the output rows and lets the
// GEMM accumulate onto them (beta = 1); W^T is W read transposed by the BLAS, not copied. Dense
// operands (the common case) go to the BLAS by pointer, with no views built: on small layers the
// views' allocations cost more than the arithmetic.

#include <algorithm>

#include "descent/autograd/node.h"
#include "descent/ops/linalg.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/reduce.h"

namespace descent {

namespace {
// Whether linear can run on raw pointers: every operand dense and no dimension empty (the BLAS
// wants positive sizes). Otherwise it takes the general path through views and batched_gemm,
// which copies only what the BLAS cannot read as it lies. Both paths are checked against each
// other and against PyTorch (tests/ops/linalg_test.cpp).
bool dense_path(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t rows, std::int64_t in,
                std::int64_t out) {
  return rows > 0 && in > 0 && out > 0 && x.is_contiguous() && weight.is_contiguous() &&
         (!bias.defined() || bias.is_contiguous());
}

// Column sums of the dense [rows, cols] matrix g into gb, row after row (as kernels::reduce sums
// dim 0, so both paths give the same bits).
template <typename T>
void sum_rows(const T* g, std::int64_t rows, std::int64_t cols, T* gb) {
  std::fill(gb, gb + cols, T(0));
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < cols; ++j) gb[j] += g[r * cols + j];
  }
}

struct LinearBackward final : Node {
  LinearBackward() : Node("linear") {}
  Tensor x2;      // the input as an [M, in] matrix (a view of it whenever the strides allow)
  Tensor weight;  // [out, in]
  Shape x_shape;
  std::int64_t rows = 0, in = 0, out = 0;
  bool dense = false;  // the forward took the dense path: x2 and weight are contiguous
  // y = x W^T + b (rows of x flattened to [M, in]):
  //   dL/dx = g W  ([M, out] x [out, in]),  dL/dW = g^T x  ([out, M] x [M, in]),  dL/db = sum_rows g
  std::vector<Tensor> apply(const Tensor& gy) override {
    if (dense && gy.is_contiguous()) return apply_dense(gy);
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
  // The same products on raw pointers.
  std::vector<Tensor> apply_dense(const Tensor& gy) {
    Tensor gx, gw, gb;
    if (needs_grad(0)) gx = empty(x_shape, gy.dtype());
    if (needs_grad(1)) gw = empty({out, in}, gy.dtype());
    if (needs_grad(2)) gb = empty({out}, gy.dtype());
    kernels::dispatch_floating(gy.dtype(), "linear", [&]<typename T>() {
      const T* g = gy.data_ptr<T>();
      if (gx.defined()) kernels::gemm<T>(false, false, rows, in, out, g, out, weight.data_ptr<T>(), in, T(0), gx.data_ptr<T>(), in);
      if (gw.defined()) kernels::gemm<T>(true, false, out, in, rows, g, out, x2.data_ptr<T>(), in, T(0), gw.data_ptr<T>(), in);
      if (gb.defined()) sum_rows(g, rows, out, gb.data_ptr<T>());
    });
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
  const bool dense = dense_path(x, weight, bias, rows, in, out);
  Tensor x2;  // what backward needs of x: x itself when dense, else its [rows, in] view or copy
  if (dense) {
    // Bias into every row, then the GEMM accumulates onto it (beta = 1).
    kernels::dispatch_floating(x.dtype(), "linear", [&]<typename T>() {
      T* yp = y.data_ptr<T>();
      if (bias.defined()) {
        const T* b = bias.data_ptr<T>();
        for (std::int64_t r = 0; r < rows; ++r) std::copy(b, b + out, yp + r * out);
      }
      kernels::gemm<T>(false, true, rows, out, in, x.data_ptr<T>(), in, weight.data_ptr<T>(), in,
                       bias.defined() ? T(1) : T(0), yp, out);
    });
    x2 = x;  // saved as is: no view to build (an input's history makes no cycle with this node)
  } else {
    const Tensor y2 = y.view({rows, out});
    x2 = x.detach().reshape({rows, in});  // a view unless x's strides forbid one
    if (bias.defined()) kernels::copy_into(y2, bias.detach());
    kernels::batched_gemm(x2, weight.detach().transpose(0, 1), y2, bias.defined() ? 1.0 : 0.0);
  }

  if (auto node = make_node<LinearBackward>({&x, &weight, &bias})) {
    if (node->needs_grad(0)) node->weight = dense ? weight : weight.detach();
    if (node->needs_grad(1)) node->x2 = std::move(x2);
    node->x_shape = x.shape();
    node->rows = rows;
    node->in = in;
    node->out = out;
    node->dense = dense;
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
