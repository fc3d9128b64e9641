// max, min, amax, amin, argmax, argmin.

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace descent {

namespace {
// amax/amin (and full max/min): tied extremes share the gradient evenly,
// dx_i = gy * [x_i == y] / count(x == y).
struct AmaxBackward final : Node {
  AmaxBackward(std::string_view name, Shape kept_shape) : Node(name), kept_shape(std::move(kept_shape)) {}
  Shape kept_shape;
  Tensor x, y_kept;
  std::vector<Tensor> apply(const Tensor& gy) override {
    const Tensor mask = eq(x, y_kept);
    const Tensor count = sum_to(mask, kept_shape);
    return {mul(mask, div(reshape(gy, kept_shape), count))};
  }
  void release_saved() override { x = y_kept = Tensor(); }
};

Tensor extreme(const Tensor& x, const std::vector<std::int64_t>& dims_in, bool keepdim, bool is_max,
               std::string_view op) {
  const std::vector<std::int64_t> dims = kernels::normalize_dims(dims_in, x.dim(), op);
  Tensor kept = kernels::reduce(x, dims, is_max ? kernels::ReduceKind::Max : kernels::ReduceKind::Min, op);
  Tensor y = keepdim ? kept : reshape(kept, kernels::squeeze_dims(kept.shape(), dims));
  if (auto node = make_node<AmaxBackward>({&x}, op, kept.shape())) {
    node->x = x.detach();
    node->y_kept = kept.detach();
    set_history(y, std::move(node));
  }
  return y;
}

std::vector<std::int64_t> all_dims(const Tensor& x) {
  std::vector<std::int64_t> all(x.dim());
  for (std::int64_t d = 0; d < x.dim(); ++d) all[d] = d;
  return all;
}

// max(x, dim): the gradient goes to the position the index names.
struct MaxDimBackward final : Node {
  MaxDimBackward(std::string_view name, Shape input_shape, Shape kept_shape)
      : Node(name), input_shape(std::move(input_shape)), kept_shape(std::move(kept_shape)) {}
  Shape input_shape, kept_shape;
  std::int64_t dim = 0;
  Tensor indices;  // keepdim shape
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = reshape(gy_in, kept_shape).contiguous();
    Tensor gx = zeros(input_shape, gy.dtype());
    const std::int64_t nd = static_cast<std::int64_t>(input_shape.size());
    std::int64_t outer = 1, n = nd == 0 ? 1 : input_shape[dim], inner = 1;
    for (std::int64_t d = 0; d < dim; ++d) outer *= input_shape[d];
    for (std::int64_t d = dim + 1; d < nd; ++d) inner *= input_shape[d];
    const auto* idx = indices.data_ptr<std::int64_t>();
    kernels::dispatch_floating(gy.dtype(), name(), [&]<typename T>() {
      const T* g = gy.data_ptr<T>();
      T* out = gx.data_ptr<T>();
      for (std::int64_t o = 0; o < outer; ++o) {
        for (std::int64_t i = 0; i < inner; ++i) out[(o * n + idx[o * inner + i]) * inner + i] = g[o * inner + i];
      }
    });
    return {gx};
  }
  void release_saved() override { indices = Tensor(); }
};

ValuesIndices extreme_dim(const Tensor& x, std::int64_t dim_in, bool keepdim, bool is_max, std::string_view op) {
  const std::int64_t dim = normalize_dim(dim_in, x.dim(), op);
  auto [values, indices] = kernels::reduce_arg(x, dim, is_max, op);
  const Shape kept = values.shape();
  ValuesIndices out;
  out.values = keepdim || x.dim() == 0 ? values : reshape(values, kernels::squeeze_dims(kept, {dim}));
  out.indices = keepdim || x.dim() == 0 ? indices : reshape(indices, kernels::squeeze_dims(kept, {dim}));
  if (auto node = make_node<MaxDimBackward>({&x}, op, x.shape(), kept)) {
    node->dim = x.dim() == 0 ? 0 : dim;
    node->indices = indices;
    set_history(out.values, std::move(node));
  }
  return out;
}
}  // namespace

Tensor amax(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  return extreme(x, dims, keepdim, true, "amax");
}
Tensor amin(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  return extreme(x, dims, keepdim, false, "amin");
}
Tensor max(const Tensor& x) { return extreme(x, all_dims(x), false, true, "max"); }
Tensor min(const Tensor& x) { return extreme(x, all_dims(x), false, false, "min"); }
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, true, "max"); }
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, false, "min"); }

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme_dim(x.detach(), dim, keepdim, true, "argmax").indices;
}
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme_dim(x.detach(), dim, keepdim, false, "argmin").indices;
}

}  // namespace descent
