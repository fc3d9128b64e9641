// slice and select: views of part of one dimension.

#include <algorithm>

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"
#include "ops/shape/view_util.h"

namespace descent {

namespace {
// The gradient of a view of part of x: zeros, with gy written into the same part.
struct SliceBackward final : Node {
  SliceBackward(std::string_view name, Shape input_shape, std::int64_t dim, std::int64_t start, std::int64_t step,
                bool keep_dim)
      : Node(name), input_shape(std::move(input_shape)), dim(dim), start(start), step(step), keep_dim(keep_dim) {}
  Shape input_shape;
  std::int64_t dim, start, step;
  bool keep_dim;
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor gx = zeros(input_shape, gy.dtype());
    const std::int64_t length = keep_dim ? gy.shape()[dim] : 1;
    // An empty slice has no gradient to place; its end bound start - step + 1 could be negative
    // and would then count from the end.
    if (length == 0) return {gx};
    Tensor part = slice(gx, dim, start, start + (length - 1) * step + 1, step);
    kernels::copy_into(part, keep_dim ? gy : unsqueeze(gy, dim));
    return {gx};
  }
};
}  // namespace

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  const std::int64_t d = normalize_dim(dim, x.dim(), "slice");
  DESCENT_CHECK_SHAPE(x.dim() > 0, "slice: cannot slice a 0-dimensional tensor");
  DESCENT_CHECK_VALUE(step > 0, "slice: step must be positive, got {}", step);
  const std::int64_t n = x.shape()[d];
  // Python's clamping: negative bounds count from the end, out-of-range bounds are clipped.
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  end = std::clamp<std::int64_t>(end, start, n);
  const std::int64_t length = (end - start + step - 1) / step;
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape[d] = length;
  strides[d] *= step;
  Tensor y = detail::make_view(x, shape, strides, x.offset() + start * x.strides()[d]);
  if (auto node = make_node<SliceBackward>({&x}, "slice", x.shape(), d, start, step, true)) {
    set_history(y, std::move(node));
  }
  return y;
}

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
  DESCENT_CHECK_SHAPE(x.dim() > 0, "select: cannot index a 0-dimensional tensor");
  const std::int64_t d = normalize_dim(dim, x.dim(), "select");
  const std::int64_t n = x.shape()[d];
  DESCENT_CHECK_INDEX(index >= -n && index < n, "select: index {} out of range for dimension {} of size {} (shape {})",
                      index, d, n, x.shape());
  if (index < 0) index += n;
  Shape shape = x.shape();
  Strides strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor y = detail::make_view(x, shape, strides, x.offset() + index * x.strides()[d]);
  if (auto node = make_node<SliceBackward>({&x}, "select", x.shape(), d, index, 1, false)) {
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
