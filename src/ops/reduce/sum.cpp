// sum over all or some dims, and sum_to (the inverse of broadcasting, used by the engine).

#include "descent/autograd/node.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "kernels/reduce.h"

namespace descent {

namespace {
struct SumBackward final : Node {
  SumBackward(Shape input_shape, Shape kept_shape) : Node("sum"), input_shape(std::move(input_shape)), kept_shape(std::move(kept_shape)) {}
  Shape input_shape, kept_shape;
  // d sum/dx_i = 1: every input element receives the gradient of its output element.
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {reshape(gy, kept_shape).expand(input_shape).contiguous()};
  }
};
}  // namespace

Tensor sum(const Tensor& x, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  const std::vector<std::int64_t> dims = kernels::normalize_dims(dims_in, x.dim(), "sum");
  Tensor kept = kernels::reduce(x, dims, kernels::ReduceKind::Sum, "sum");
  Tensor y = keepdim ? kept : reshape(kept, kernels::squeeze_dims(kept.shape(), dims));
  if (auto node = make_node<SumBackward>({&x}, x.shape(), kept.shape())) set_history(y, std::move(node));
  return y;
}

Tensor sum(const Tensor& x) {
  std::vector<std::int64_t> all(x.dim());
  for (std::int64_t d = 0; d < x.dim(); ++d) all[d] = d;
  return sum(x, all, false);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const std::int64_t lead = x.dim() - static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(d);
  }
  return reshape(sum(x, dims, true), shape);
}

}  // namespace descent
