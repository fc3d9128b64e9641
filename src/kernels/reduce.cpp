#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/parallel.h"

namespace descent::kernels {

std::vector<std::int64_t> normalize_dims(const std::vector<std::int64_t>& dims, std::int64_t ndim,
                                         std::string_view op) {
  std::vector<std::int64_t> out;
  out.reserve(dims.size());
  for (std::int64_t d : dims) out.push_back(normalize_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  DESCENT_CHECK_INDEX(std::adjacent_find(out.begin(), out.end()) == out.end(),
                      "{}: dimension listed twice in {}", op, dims);
  if (ndim == 0) out.clear();  // dim 0 / -1 of a scalar reduce nothing
  return out;
}

Shape squeeze_dims(const Shape& kept, const std::vector<std::int64_t>& dims) {
  Shape out;
  for (std::size_t d = 0; d < kept.size(); ++d) {
    if (!std::binary_search(dims.begin(), dims.end(), static_cast<std::int64_t>(d))) out.push_back(kept[d]);
  }
  return out;
}

ReduceLayout reduce_layout(const Tensor& x, const std::vector<std::int64_t>& dims) {
  ReduceLayout layout;
  const Shape& shape = x.shape();
  layout.kept_shape = shape;
  for (std::int64_t d : dims) layout.kept_shape[d] = 1;
  const bool adjacent = dims.empty() || dims.back() - dims.front() + 1 == static_cast<std::int64_t>(dims.size());
  if (adjacent) {
    layout.input = x.is_contiguous() ? x : contiguous_copy(x);
    const std::int64_t first = dims.empty() ? static_cast<std::int64_t>(shape.size()) : dims.front();
    const std::int64_t last = dims.empty() ? first - 1 : dims.back();
    for (std::int64_t d = 0; d < first; ++d) layout.outer *= shape[d];
    for (std::int64_t d = first; d <= last; ++d) layout.reduced *= shape[d];
    for (std::int64_t d = last + 1; d < static_cast<std::int64_t>(shape.size()); ++d) layout.inner *= shape[d];
    return layout;
  }
  // Scattered dims: move them to the end and copy once.
  std::vector<std::int64_t> order;
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(shape.size()); ++d) {
    if (!std::binary_search(dims.begin(), dims.end(), d)) {
      order.push_back(d);
      layout.outer *= shape[d];
    }
  }
  for (std::int64_t d : dims) {
    order.push_back(d);
    layout.reduced *= shape[d];
  }
  Tensor permuted = x.detach();
  Shape pshape;
  Strides pstrides;
  for (std::int64_t d : order) {
    pshape.push_back(shape[d]);
    pstrides.push_back(x.strides()[d]);
  }
  permuted.impl()->shape = pshape;
  permuted.impl()->strides = pstrides;
  layout.input = contiguous_copy(permuted);
  return layout;
}

namespace {
template <typename T>
struct SumOp {
  static T init() { return T(0); }
  static T combine(T acc, T v) { return acc + v; }
};
template <typename T>
struct MaxOp {
  static T init() { return -std::numeric_limits<T>::infinity(); }
  static T combine(T acc, T v) { return (v > acc || std::isnan(v)) ? v : acc; }
};
template <typename T>
struct MinOp {
  static T init() { return std::numeric_limits<T>::infinity(); }
  static T combine(T acc, T v) { return (v < acc || std::isnan(v)) ? v : acc; }
};

template <typename T, typename Op>
void reduce_loop(const T* x, T* out, std::int64_t outer, std::int64_t reduced, std::int64_t inner) {
  const bool parallel = outer * reduced * inner >= kParallelGrain && outer > 1;
  if (inner == 1) {
    parallel_for(outer, parallel, [&](std::int64_t o) {
      const T* row = x + o * reduced;
      T acc = Op::init();
      for (std::int64_t r = 0; r < reduced; ++r) acc = Op::combine(acc, row[r]);
      out[o] = acc;
    });
    return;
  }
  parallel_for(outer, parallel, [&](std::int64_t o) {
    T* dst = out + o * inner;
    for (std::int64_t i = 0; i < inner; ++i) dst[i] = Op::init();
    for (std::int64_t r = 0; r < reduced; ++r) {
      const T* row = x + (o * reduced + r) * inner;
      for (std::int64_t i = 0; i < inner; ++i) dst[i] = Op::combine(dst[i], row[i]);
    }
  });
}
}  // namespace

Tensor reduce(const Tensor& x, const std::vector<std::int64_t>& dims, ReduceKind kind, std::string_view op) {
  ReduceLayout layout = reduce_layout(x, dims);
  DESCENT_CHECK_SHAPE(kind == ReduceKind::Sum || layout.reduced > 0,
                      "{}: cannot reduce over an empty dimension (input shape {})", op, x.shape());
  Tensor out = empty(layout.kept_shape, x.dtype());
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* in = layout.input.data_ptr<T>();
    T* o = out.data_ptr<T>();
    switch (kind) {
      case ReduceKind::Sum: reduce_loop<T, SumOp<T>>(in, o, layout.outer, layout.reduced, layout.inner); break;
      case ReduceKind::Max: reduce_loop<T, MaxOp<T>>(in, o, layout.outer, layout.reduced, layout.inner); break;
      case ReduceKind::Min: reduce_loop<T, MinOp<T>>(in, o, layout.outer, layout.reduced, layout.inner); break;
    }
  });
  return out;
}

std::pair<Tensor, Tensor> reduce_arg(const Tensor& x, std::int64_t dim, bool max, std::string_view op) {
  std::vector<std::int64_t> dims;
  if (x.dim() > 0) dims.push_back(dim);
  ReduceLayout layout = reduce_layout(x, dims);
  DESCENT_CHECK_SHAPE(layout.reduced > 0, "{}: cannot reduce over an empty dimension (input shape {})", op,
                      x.shape());
  Tensor values = empty(layout.kept_shape, x.dtype());
  Tensor indices = empty(layout.kept_shape, kInt64);
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* in = layout.input.data_ptr<T>();
    T* v = values.data_ptr<T>();
    auto* idx = indices.data_ptr<std::int64_t>();
    for (std::int64_t o = 0; o < layout.outer; ++o) {
      for (std::int64_t i = 0; i < layout.inner; ++i) {
        const T* p = in + o * layout.reduced * layout.inner + i;
        T best = p[0];
        std::int64_t best_r = 0;
        for (std::int64_t r = 1; r < layout.reduced && !std::isnan(best); ++r) {
          const T c = p[r * layout.inner];
          if ((max ? c > best : c < best) || std::isnan(c)) {
            best = c;
            best_r = r;
          }
        }
        v[o * layout.inner + i] = best;
        idx[o * layout.inner + i] = best_r;
      }
    }
  });
  return {values, indices};
}

}  // namespace descent::kernels
