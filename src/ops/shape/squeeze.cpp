// squeeze and unsqueeze: remove or insert size-1 dimensions (views).

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "ops/shape/view_util.h"

namespace descent {

namespace {
struct RestoreShapeBackward final : Node {
  RestoreShapeBackward(std::string_view name, Shape input_shape) : Node(name), input_shape(std::move(input_shape)) {}
  Shape input_shape;
  std::vector<Tensor> apply(const Tensor& gy) override { return {reshape(gy, input_shape)}; }  // same elements
};

Tensor view_with_history(const Tensor& x, Shape shape, Strides strides, std::string_view op) {
  Tensor y = detail::make_view(x, std::move(shape), std::move(strides), x.offset());
  if (auto node = make_node<RestoreShapeBackward>({&x}, op, x.shape())) set_history(y, std::move(node));
  return y;
}
}  // namespace

Tensor squeeze(const Tensor& x) {
  Shape shape;
  Strides strides;
  for (std::int64_t d = 0; d < x.dim(); ++d) {
    if (x.shape()[d] != 1) {
      shape.push_back(x.shape()[d]);
      strides.push_back(x.strides()[d]);
    }
  }
  return view_with_history(x, shape, strides, "squeeze");
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = normalize_dim(dim, x.dim(), "squeeze");
  Shape shape = x.shape();
  Strides strides = x.strides();
  if (x.dim() > 0 && shape[d] == 1) {
    shape.erase(shape.begin() + d);
    strides.erase(strides.begin() + d);
  }
  return view_with_history(x, shape, strides, "squeeze");
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = normalize_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape();
  Strides strides = x.strides();
  const std::int64_t stride = d < x.dim() ? shape[d] * strides[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return view_with_history(x, shape, strides, "unsqueeze");
}

}  // namespace descent
