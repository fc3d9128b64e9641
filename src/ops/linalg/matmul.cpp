// matmul with torch.matmul's rules; the core product (>= 2-D operands) records one node.

#include "descent/autograd/node.h"
#include "descent/ops/linalg.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace descent {

namespace {
// The last two dims swapped, as a view (no copy: the BLAS reads it transposed).
Tensor mT(const Tensor& t) { return transpose(t, -2, -1); }

struct MatmulBackward final : Node {
  MatmulBackward() : Node("matmul") {}
  Tensor a, b;
  // y = a b:  dL/da = dL/dy b^T,  dL/db = a^T dL/dy  (batch dims that broadcast are summed by the engine)
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor ga, gb;
    if (needs_grad(0)) ga = matmul(gy, mT(b));
    if (needs_grad(1)) gb = matmul(mT(a), gy);
    return {ga, gb};
  }
  void release_saved() override { a = b = Tensor(); }
};

Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  const std::int64_t k = a.shape().back();
  DESCENT_CHECK_SHAPE(k == b.shape()[b.dim() - 2],
                      "matmul: inner dimensions differ: lhs {} vs rhs {} ({} != {})", a.shape(), b.shape(), k,
                      b.shape()[b.dim() - 2]);
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  const Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape shape = broadcast_shapes(a_batch, b_batch, "matmul");
  shape.push_back(a.shape()[a.dim() - 2]);
  shape.push_back(b.shape().back());
  Tensor y = empty(shape, a.dtype());
  kernels::batched_gemm(a, b, y);
  if (auto node = make_node<MatmulBackward>({&a, &b})) {
    if (node->needs_grad(1)) node->a = a.detach();
    if (node->needs_grad(0)) node->b = b.detach();
    set_history(y, std::move(node));
  }
  return y;
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  DESCENT_CHECK_SHAPE(a.dim() >= 1 && b.dim() >= 1,
                      "matmul: both arguments need at least 1 dimension, got shapes {} and {}", a.shape(), b.shape());
  kernels::check_same_dtype(a, b, "matmul");
  DESCENT_CHECK_DTYPE(is_floating(a.dtype()), "matmul: expected a floating dtype, got {}", dtype_name(a.dtype()));
  // 1-D operands become matrices ([k] -> [1, k] on the left, [k, 1] on the right) and the added
  // dimension is removed from the result, as torch.matmul does.
  if (a.dim() == 1 && b.dim() == 1) {
    DESCENT_CHECK_SHAPE(a.shape()[0] == b.shape()[0], "matmul: inner dimensions differ: lhs {} vs rhs {}", a.shape(),
                        b.shape());
    return reshape(matmul_nd(unsqueeze(a, 0), unsqueeze(b, 1)), {});
  }
  if (a.dim() == 1) return squeeze(matmul_nd(unsqueeze(a, 0), b), -2);
  if (b.dim() == 1) return squeeze(matmul_nd(a, unsqueeze(b, 1)), -1);
  return matmul_nd(a, b);
}

}  // namespace descent
