// gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (the index replaces position dim).

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
// Calls f(x_position, out_position) for every element of index, x viewed with x_strides.
template <typename F>
void for_each_gathered(const Shape& index_shape, const Strides& x_strides, std::int64_t dim, const std::int64_t* idx,
                       F f) {
  const std::int64_t n = numel(index_shape);
  const std::size_t nd = index_shape.size();
  std::vector<std::int64_t> pos(nd, 0);
  for (std::int64_t flat = 0; flat < n; ++flat) {
    std::int64_t xp = 0;
    for (std::size_t d = 0; d < nd; ++d) xp += (static_cast<std::int64_t>(d) == dim ? idx[flat] : pos[d]) * x_strides[d];
    f(xp, flat);
    for (std::size_t d = nd; d-- > 0;) {
      if (++pos[d] < index_shape[d]) break;
      pos[d] = 0;
    }
  }
}

struct GatherBackward final : Node {
  GatherBackward(Shape input_shape, std::int64_t dim) : Node("gather"), input_shape(std::move(input_shape)), dim(dim) {}
  Shape input_shape;
  std::int64_t dim;
  Tensor index;
  // The gradient flows back to the gathered positions (scatter_add: repeats accumulate).
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.contiguous();
    Tensor gx = zeros(input_shape, gy.dtype());
    kernels::dispatch_floating(gy.dtype(), "gather", [&]<typename T>() {
      const T* g = gy.data_ptr<T>();
      T* out = gx.data_ptr<T>();
      for_each_gathered(index.shape(), gx.strides(), dim, index.data_ptr<std::int64_t>(),
                        [&](std::int64_t xp, std::int64_t flat) { out[xp] += g[flat]; });
    });
    return {gx, Tensor()};
  }
  void release_saved() override { index = Tensor(); }
};
}  // namespace

Tensor gather(const Tensor& x_in, std::int64_t dim, const Tensor& index_in) {
  const std::int64_t d = normalize_dim(dim, x_in.dim(), "gather");
  DESCENT_CHECK_DTYPE(index_in.dtype() == kInt64, "gather: index must be int64, got {}", dtype_name(index_in.dtype()));
  DESCENT_CHECK_SHAPE(index_in.dim() == x_in.dim(),
                      "gather: index (shape {}) must have as many dimensions as the input (shape {})", index_in.shape(),
                      x_in.shape());
  for (std::int64_t k = 0; k < x_in.dim(); ++k) {
    DESCENT_CHECK_SHAPE(k == d || index_in.shape()[k] <= x_in.shape()[k],
                        "gather: index shape {} is larger than input shape {} at dimension {}", index_in.shape(),
                        x_in.shape(), k);
  }
  const Tensor x = x_in.is_contiguous() ? x_in.detach() : kernels::contiguous_copy(x_in);
  const Tensor index = index_in.contiguous();
  const auto* idx = index.data_ptr<std::int64_t>();
  const std::int64_t limit = x.dim() == 0 ? 1 : x.shape()[d];
  for (std::int64_t j = 0; j < index.numel(); ++j) {
    DESCENT_CHECK_INDEX(idx[j] >= 0 && idx[j] < limit,
                        "gather: index {} out of range for dimension {} of size {} (input shape {})", idx[j], d, limit,
                        x.shape());
  }
  Tensor y = empty(index.shape(), x.dtype());
  kernels::dispatch_floating(x.dtype(), "gather", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* out = y.data_ptr<T>();
    for_each_gathered(index.shape(), x.strides(), d, idx, [&](std::int64_t xp, std::int64_t flat) { out[flat] = in[xp]; });
  });
  if (auto node = make_node<GatherBackward>({&x_in, &index_in}, x.shape(), d)) {
    node->index = index;
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
