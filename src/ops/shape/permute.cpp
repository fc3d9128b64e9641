// permute and transpose: views with reordered dimensions.

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "ops/shape/view_util.h"

namespace descent {

namespace {
struct PermuteBackward final : Node {
  explicit PermuteBackward(std::vector<std::int64_t> inverse) : Node("permute"), inverse(std::move(inverse)) {}
  std::vector<std::int64_t> inverse;
  std::vector<Tensor> apply(const Tensor& gy) override { return {permute(gy, inverse)}; }  // undo the reorder
};

Tensor permute_impl(const Tensor& x, const std::vector<std::int64_t>& dims, std::string_view op) {
  const std::int64_t nd = x.dim();
  DESCENT_CHECK_SHAPE(static_cast<std::int64_t>(dims.size()) == nd,
                      "{}: got {} dims {} for a tensor of shape {}", op, dims.size(), dims, x.shape());
  std::vector<std::int64_t> inverse(nd, -1);
  Shape shape(nd);
  Strides strides(nd);
  for (std::int64_t i = 0; i < nd; ++i) {
    const std::int64_t d = normalize_dim(dims[i], nd, op);
    DESCENT_CHECK_INDEX(inverse[d] < 0, "{}: dimension {} repeated in {}", op, d, dims);
    inverse[d] = i;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  Tensor y = detail::make_view(x, shape, strides, x.offset());
  if (auto node = make_node<PermuteBackward>({&x}, inverse)) set_history(y, std::move(node));
  return y;
}
}  // namespace

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) { return permute_impl(x, dims, "permute"); }

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
  if (x.dim() == 0) {
    normalize_dim(dim0, 0, "transpose");
    normalize_dim(dim1, 0, "transpose");
    return permute_impl(x, {}, "transpose");
  }
  std::vector<std::int64_t> dims(x.dim());
  for (std::int64_t i = 0; i < x.dim(); ++i) dims[i] = i;
  std::swap(dims[normalize_dim(dim0, x.dim(), "transpose")], dims[normalize_dim(dim1, x.dim(), "transpose")]);
  return permute_impl(x, dims, "transpose");
}

}  // namespace descent
