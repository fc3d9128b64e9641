// reshape, view and flatten: the same elements in row-major order under a new shape.

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"
#include "ops/shape/view_util.h"

namespace descent {

namespace {
struct ReshapeBackward final : Node {
  explicit ReshapeBackward(Shape input_shape) : Node("reshape"), input_shape(std::move(input_shape)) {}
  Shape input_shape;
  std::vector<Tensor> apply(const Tensor& gy) override { return {reshape(gy, input_shape)}; }  // same elements
};

// Resolves one -1 and checks the element count.
Shape infer_shape(const Shape& requested, std::int64_t count, const Shape& from, std::string_view op) {
  Shape shape = requested;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      DESCENT_CHECK_SHAPE(infer < 0, "{}: only one dimension can be -1, got {}", op, requested);
      infer = static_cast<int>(d);
    } else {
      DESCENT_CHECK_SHAPE(shape[d] >= 0, "{}: invalid size {} in shape {}", op, shape[d], requested);
      known *= shape[d];
    }
  }
  if (infer >= 0) {
    DESCENT_CHECK_SHAPE(known != 0 && count % known == 0, "{}: shape {} is invalid for input of shape {} ({} elements)",
                        op, requested, from, count);
    shape[infer] = count / known;
  }
  DESCENT_CHECK_SHAPE(numel(shape) == count, "{}: shape {} is invalid for input of shape {} ({} elements)", op,
                      requested, from, count);
  return shape;
}

// Strides that view x's elements under `shape` without copying, if x's strides allow it
// (the rule of PyTorch's computeStride: each new dim must lie inside one contiguous chunk of old dims).
bool view_strides(const Tensor& x, const Shape& shape, Strides& out) {
  const Shape& old_shape = x.shape();
  const Strides& old_strides = x.strides();
  out.assign(shape.size(), 0);
  if (x.numel() == 0 || x.dim() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  std::int64_t view_d = static_cast<std::int64_t>(shape.size()) - 1;
  std::int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  std::int64_t tensor_numel = 1;
  std::int64_t view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

Tensor reshape_impl(const Tensor& x, const Shape& requested, bool allow_copy, std::string_view op) {
  const Shape shape = infer_shape(requested, x.numel(), x.shape(), op);
  Tensor y;
  Strides strides;
  if (view_strides(x, shape, strides)) {
    y = detail::make_view(x, shape, strides, x.offset());
  } else {
    DESCENT_CHECK_SHAPE(allow_copy,
                        "view: shape {} is not compatible with the strides of the input (shape {}, strides {}); "
                        "use reshape() or contiguous() first",
                        requested, x.shape(), x.strides());
    y = detail::make_view(kernels::contiguous_copy(x), shape, contiguous_strides(shape), 0);
  }
  if (auto node = make_node<ReshapeBackward>({&x}, x.shape())) set_history(y, std::move(node));
  return y;
}
}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) { return reshape_impl(x, shape, true, "reshape"); }
Tensor view(const Tensor& x, const Shape& shape) { return reshape_impl(x, shape, false, "view"); }

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const std::int64_t s = normalize_dim(start_dim, x.dim(), "flatten");
  const std::int64_t e = normalize_dim(end_dim, x.dim(), "flatten");
  DESCENT_CHECK_INDEX(s <= e, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  std::int64_t merged = 1;
  for (std::int64_t d = s; d <= e; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

}  // namespace descent
