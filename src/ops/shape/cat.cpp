// cat and stack: join tensors along an existing (cat) or new (stack) dimension.

#include "descent/autograd/grad_mode.h"
#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct CatBackward final : Node {
  CatBackward(std::int64_t dim, std::vector<std::int64_t> sizes) : Node("cat"), dim(dim), sizes(std::move(sizes)) {}
  std::int64_t dim;
  std::vector<std::int64_t> sizes;
  // Each input receives its own slice of the gradient.
  std::vector<Tensor> apply(const Tensor& gy) override {
    std::vector<Tensor> grads(sizes.size());
    std::int64_t start = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (needs_grad(i)) grads[i] = slice(gy, dim, start, start + sizes[i]);
      start += sizes[i];
    }
    return grads;
  }
};
}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  DESCENT_CHECK_VALUE(!tensors.empty(), "cat: expected a non-empty list of tensors");
  const Tensor& first = tensors.front();
  DESCENT_CHECK_SHAPE(first.dim() > 0, "cat: zero-dimensional tensor (at position 0) cannot be concatenated");
  const std::int64_t d = normalize_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    DESCENT_CHECK_DTYPE(t.dtype() == first.dtype(), "cat: tensor {} has dtype {} but tensor 0 has {}", i,
                        dtype_name(t.dtype()), dtype_name(first.dtype()));
    bool fits = t.dim() == first.dim();
    for (std::int64_t k = 0; fits && k < t.dim(); ++k) fits = k == d || t.shape()[k] == first.shape()[k];
    DESCENT_CHECK_SHAPE(fits, "cat: tensor {} has shape {}, which does not match tensor 0's shape {} outside dimension {}",
                        i, t.shape(), first.shape(), d);
    sizes.push_back(t.shape()[d]);
    shape[d] += t.shape()[d];
  }
  Tensor y = empty(shape, first.dtype());
  {
    NoGradGuard no_grad;
    std::int64_t start = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      kernels::copy_into(slice(y, d, start, start + sizes[i]), tensors[i]);
      start += sizes[i];
    }
  }
  std::shared_ptr<CatBackward> node;
  if (GradMode::is_enabled()) {
    for (const Tensor& t : tensors) {
      if (t.requires_grad()) {
        node = std::make_shared<CatBackward>(d, sizes);
        connect_inputs(*node, tensors);
        break;
      }
    }
  }
  if (node) set_history(y, std::move(node));
  return y;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  DESCENT_CHECK_VALUE(!tensors.empty(), "stack: expected a non-empty list of tensors");
  const std::int64_t d = normalize_dim(dim, tensors.front().dim() + 1, "stack");
  std::vector<Tensor> expanded;
  expanded.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    DESCENT_CHECK_SHAPE(tensors[i].shape() == tensors.front().shape(),
                        "stack: tensor {} has shape {} but tensor 0 has shape {}; all must be equal", i,
                        tensors[i].shape(), tensors.front().shape());
    expanded.push_back(unsqueeze(tensors[i], d));
  }
  return cat(expanded, d);
}

}  // namespace descent
