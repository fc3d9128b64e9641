// clone, contiguous and to(dtype): copies that keep the graph.

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct CopyBackward final : Node {
  explicit CopyBackward(DType input_dtype) : Node("clone"), input_dtype(input_dtype) {}
  DType input_dtype;
  // d copy(x)/dx = 1, converted back to the input's dtype
  std::vector<Tensor> apply(const Tensor& gy) override { return {gy.dtype() == input_dtype ? gy : to(gy, input_dtype)}; }
};

Tensor copy_as(const Tensor& x, DType dtype) {
  Tensor y = empty(x.shape(), dtype);
  kernels::copy_into(y, x);
  if (auto node = make_node<CopyBackward>({&x}, x.dtype())) set_history(y, std::move(node));
  return y;
}
}  // namespace

Tensor clone(const Tensor& x) { return copy_as(x, x.dtype()); }
Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : copy_as(x, x.dtype()); }

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  DESCENT_CHECK_DTYPE(is_floating(dtype) || !x.requires_grad(),
                      "to: cannot convert a tensor that requires grad to {}", dtype_name(dtype));
  return copy_as(x, dtype);
}

}  // namespace descent
