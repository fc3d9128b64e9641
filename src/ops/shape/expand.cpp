// expand: broadcast to a larger shape as a view with stride 0; the engine sums the gradient back.

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "ops/shape/view_util.h"

namespace descent {

namespace {
struct ExpandBackward final : Node {
  ExpandBackward() : Node("expand") {}
  // The gradient has the expanded shape; the engine reduces it to the input's (sum_to).
  std::vector<Tensor> apply(const Tensor& gy) override { return {gy}; }
};
}  // namespace

Tensor expand(const Tensor& x, const Shape& shape) {
  const std::int64_t nd = static_cast<std::int64_t>(shape.size());
  DESCENT_CHECK_SHAPE(nd >= x.dim(), "expand: the target shape {} has fewer dimensions than the input {}", shape,
                      x.shape());
  const std::int64_t lead = nd - x.dim();
  Shape out(nd);
  Strides strides(nd, 0);
  for (std::int64_t d = 0; d < nd; ++d) {
    if (d < lead) {
      DESCENT_CHECK_SHAPE(shape[d] >= 0, "expand: size -1 is not allowed in a new leading dimension ({} to {})",
                          x.shape(), shape);
      out[d] = shape[d];
      continue;
    }
    const std::int64_t have = x.shape()[d - lead];
    const std::int64_t want = shape[d] == -1 ? have : shape[d];
    DESCENT_CHECK_SHAPE(have == want || have == 1,
                        "expand: the input size {} must match the target size {} at dimension {} (or be 1): {} to {}",
                        have, want, d, x.shape(), shape);
    out[d] = want;
    strides[d] = have == want ? x.strides()[d - lead] : 0;
  }
  Tensor y = detail::make_view(x, out, strides, x.offset());
  if (auto node = make_node<ExpandBackward>({&x})) set_history(y, std::move(node));
  return y;
}

}  // namespace descent
