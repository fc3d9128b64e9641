// softmax and log_softmax along one dim, each with a hand-written backward: the compositions
// would overflow (exp of large logits) and cost several passes.

#include <cmath>
#include <limits>

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/parallel.h"

namespace descent {

namespace {
struct Lanes {
  std::int64_t outer = 1, n = 1, inner = 1;
};
Lanes lanes(const Shape& shape, std::int64_t dim) {
  Lanes l;
  for (std::int64_t d = 0; d < dim; ++d) l.outer *= shape[d];
  l.n = shape.empty() ? 1 : shape[dim];
  for (std::size_t d = dim + 1; d < shape.size(); ++d) l.inner *= shape[d];
  return l;
}

// Calls f(pointer to first element, stride) for each lane along dim of a contiguous tensor.
template <typename F>
void for_each_lane(const Lanes& l, F f) {
  const bool parallel = l.outer * l.n * l.inner >= kernels::kParallelGrain;
  kernels::parallel_for(l.outer, parallel, [&](std::int64_t o) {
    for (std::int64_t i = 0; i < l.inner; ++i) f(o * l.n * l.inner + i);
  });
}

Tensor softmax_forward(const Tensor& x_in, std::int64_t dim, bool log, std::string_view op) {
  const Tensor x = x_in.is_contiguous() ? x_in : kernels::contiguous_copy(x_in);
  const Lanes l = lanes(x.shape(), dim);
  Tensor y = empty(x.shape(), x.dtype());
  kernels::dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* out = y.data_ptr<T>();
    const std::int64_t s = l.inner;
    for_each_lane(l, [&](std::int64_t base) {
      T m = -std::numeric_limits<T>::infinity();
      for (std::int64_t j = 0; j < l.n; ++j) m = std::max(m, in[base + j * s]);
      if (std::isinf(m) && m < 0) m = T(0);  // a lane of -inf: avoid -inf - -inf
      T total = 0;
      for (std::int64_t j = 0; j < l.n; ++j) total += std::exp(in[base + j * s] - m);
      if (log) {
        // (x - m) - log(total), not x - (m + log(total)): m + log(total) would round away the
        // small log(total) when |m| is large (1e4 in float32), as PyTorch avoids too.
        const T log_total = std::log(total);
        for (std::int64_t j = 0; j < l.n; ++j) out[base + j * s] = (in[base + j * s] - m) - log_total;
      } else {
        for (std::int64_t j = 0; j < l.n; ++j) out[base + j * s] = std::exp(in[base + j * s] - m) / total;
      }
    });
  });
  return y;
}

struct SoftmaxBackward final : Node {
  SoftmaxBackward(std::string_view name, std::int64_t dim, bool log) : Node(name), dim(dim), log(log) {}
  std::int64_t dim;
  bool log;
  Tensor y;  // saved output
  // softmax:     dx = y * (g - sum(g * y))
  // log_softmax: dx = g - exp(y) * sum(g)
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.is_contiguous() ? gy_in : kernels::contiguous_copy(gy_in);
    const Lanes l = lanes(y.shape(), dim);
    Tensor gx = empty(y.shape(), y.dtype());
    kernels::dispatch_floating(y.dtype(), name(), [&]<typename T>() {
      const T* g = gy.data_ptr<T>();
      const T* out = y.data_ptr<T>();
      T* dx = gx.data_ptr<T>();
      const std::int64_t s = l.inner;
      for_each_lane(l, [&](std::int64_t base) {
        T dot = 0;
        if (log) {
          for (std::int64_t j = 0; j < l.n; ++j) dot += g[base + j * s];
          for (std::int64_t j = 0; j < l.n; ++j) dx[base + j * s] = g[base + j * s] - std::exp(out[base + j * s]) * dot;
        } else {
          for (std::int64_t j = 0; j < l.n; ++j) dot += g[base + j * s] * out[base + j * s];
          for (std::int64_t j = 0; j < l.n; ++j) dx[base + j * s] = out[base + j * s] * (g[base + j * s] - dot);
        }
      });
    });
    return {gx};
  }
  void release_saved() override { y = Tensor(); }
};

Tensor softmax_op(const Tensor& x, std::int64_t dim_in, bool log, std::string_view op) {
  const std::int64_t dim = normalize_dim(dim_in, x.dim(), op);
  Tensor y = softmax_forward(x, dim, log, op);
  if (auto node = make_node<SoftmaxBackward>({&x}, op, dim, log)) {
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}
}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return softmax_op(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return softmax_op(x, dim, true, "log_softmax"); }

}  // namespace descent
