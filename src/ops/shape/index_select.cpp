// index_select: out = x[..., index[j], ...] along dim, for a 1-D int64 index.

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
// Views x (contiguous) as [outer, n, inner] around dim.
struct Around {
  std::int64_t outer = 1, n = 1, inner = 1;
};
Around around(const Shape& shape, std::int64_t dim) {
  Around a;
  for (std::int64_t d = 0; d < dim; ++d) a.outer *= shape[d];
  a.n = shape.empty() ? 1 : shape[dim];
  for (std::size_t d = dim + 1; d < shape.size(); ++d) a.inner *= shape[d];
  return a;
}

struct IndexSelectBackward final : Node {
  IndexSelectBackward(Shape input_shape, std::int64_t dim) : Node("index_select"), input_shape(std::move(input_shape)), dim(dim) {}
  Shape input_shape;
  std::int64_t dim;
  Tensor index;
  // Each selected row's gradient is added back where it came from (index_add; repeats accumulate).
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.contiguous();
    Tensor gx = zeros(input_shape, gy.dtype());
    const Around src = around(input_shape, dim);
    const std::int64_t k = index.numel();
    const auto* idx = index.data_ptr<std::int64_t>();
    kernels::dispatch_floating(gy.dtype(), "index_select", [&]<typename T>() {
      const T* g = gy.data_ptr<T>();
      T* out = gx.data_ptr<T>();
      for (std::int64_t o = 0; o < src.outer; ++o) {
        for (std::int64_t j = 0; j < k; ++j) {
          T* dst = out + (o * src.n + idx[j]) * src.inner;
          const T* from = g + (o * k + j) * src.inner;
          for (std::int64_t i = 0; i < src.inner; ++i) dst[i] += from[i];
        }
      }
    });
    return {gx, Tensor()};
  }
  void release_saved() override { index = Tensor(); }
};
}  // namespace

Tensor index_select(const Tensor& x_in, std::int64_t dim, const Tensor& index_in) {
  const std::int64_t d = normalize_dim(dim, x_in.dim(), "index_select");
  DESCENT_CHECK_DTYPE(index_in.dtype() == kInt64, "index_select: index must be int64, got {}",
                      dtype_name(index_in.dtype()));
  DESCENT_CHECK_SHAPE(index_in.dim() <= 1, "index_select: index must be 1-D, got shape {}", index_in.shape());
  const Tensor x = x_in.is_contiguous() ? x_in.detach() : kernels::contiguous_copy(x_in);
  const Tensor index = index_in.contiguous();
  const Around src = around(x.shape(), d);
  const std::int64_t k = index.numel();
  // The output of a 0-d input is 0-d (one element), so the index must have exactly one entry.
  DESCENT_CHECK_INDEX(x.dim() > 0 || k == 1,
                      "index_select: index has {} elements, but a 0-dimensional input takes exactly one", k);
  const auto* idx = index.data_ptr<std::int64_t>();
  for (std::int64_t j = 0; j < k; ++j) {
    DESCENT_CHECK_INDEX(idx[j] >= 0 && idx[j] < src.n,
                        "index_select: index {} out of range for dimension {} of size {} (input shape {})", idx[j], d,
                        src.n, x.shape());
  }
  Shape shape = x.shape();
  if (!shape.empty()) shape[d] = k;
  Tensor y = empty(shape, x.dtype());
  kernels::dispatch_floating(x.dtype(), "index_select", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* out = y.data_ptr<T>();
    for (std::int64_t o = 0; o < src.outer; ++o) {
      for (std::int64_t j = 0; j < k; ++j) {
        const T* from = in + (o * src.n + idx[j]) * src.inner;
        std::copy(from, from + src.inner, out + (o * k + j) * src.inner);
      }
    }
  });
  if (auto node = make_node<IndexSelectBackward>({&x_in, &index_in}, x.shape(), d)) {
    node->index = index;
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
