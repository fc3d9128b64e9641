// max_pool2d and max_pool2d_with_indices: each output is the maximum of its (dilated) window over
// one input plane, padded with -inf. The forward records where each maximum came from (PyTorch's
// flat h * W + w index within the plane); the backward scatters the gradient there.

#include <algorithm>
#include <limits>
#include <vector>

#include "descent/autograd/node.h"
#include "descent/ops/conv.h"
#include "kernels/dispatch.h"
#include "ops/conv/pool_util.h"

namespace descent {

namespace {

// The real (unpadded) positions a window covers along one dim: first, first + dilation, ...,
// `count` of them.
struct Span {
  std::int64_t first = 0, count = 0;
};

std::vector<Span> window_spans(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                               std::int64_t padding, std::int64_t dilation) {
  std::vector<Span> spans(out);
  for (std::int64_t o = 0; o < out; ++o) {
    const std::int64_t start = o * stride - padding;
    // Taps j in [lo, hi) land inside [0, in): skip those in the -inf padding.
    const std::int64_t lo = start < 0 ? (-start + dilation - 1) / dilation : 0;
    const std::int64_t hi = std::min(kernel, in - start <= 0 ? 0 : (in - start + dilation - 1) / dilation);
    spans[o] = {start + lo * dilation, std::max<std::int64_t>(hi - lo, 0)};
  }
  return spans;
}

// Column tap b of a window (b < kernel_w) reads column ow * stride + offset[b]; it lands inside
// the input for the outputs ow in [lo[b], hi[b]), elsewhere in the -inf padding.
struct ColumnTaps {
  std::vector<std::int64_t> offset, lo, hi;
};

ColumnTaps column_taps(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                       std::int64_t padding, std::int64_t dilation) {
  ColumnTaps t;
  for (std::int64_t b = 0; b < kernel; ++b) {
    const std::int64_t off = b * dilation - padding;
    const std::int64_t lo = std::min(out, off >= 0 ? 0 : (-off + stride - 1) / stride);
    const std::int64_t hi = std::min(out, in - off <= 0 ? 0 : (in - off + stride - 1) / stride);
    t.offset.push_back(off);
    t.lo.push_back(lo);
    t.hi.push_back(std::max(lo, hi));
  }
  return t;
}

// One tap over a row of outputs: best[ow], at[ow] take src[ow * stride + off] where it is larger
// or NaN. Everything arrives by value: with the int64 index stores, values read through
// references (or a lambda's captures) would be reloaded on every iteration.
template <typename T, bool kIndices>
void update_row(const T* src, std::int64_t row, std::int64_t stride, std::int64_t off, std::int64_t lo, std::int64_t hi,
                T* best, std::int64_t* at) {
  for (std::int64_t ow = lo; ow < hi; ++ow) {
    const std::int64_t i = ow * stride + off;
    const T v = src[i];
    const bool take = v > best[ow] || v != v;
    best[ow] = take ? v : best[ow];
    if constexpr (kIndices) {  // at = take ? row + i : at, as a mask: GCC would branch
      const std::int64_t mask = -static_cast<std::int64_t>(take);
      at[ow] ^= (at[ow] ^ (row + i)) & mask;
    }
  }
}

// PyTorch's CPU kernel: the first maximum wins ties (strict >), and a NaN replaces whatever came
// before it, so a window with a NaN outputs NaN (the last NaN's index). The loops run tap by tap
// over a whole output row (the taps of each window still in row-major order), so that the inner
// loop over ow compiles to selects; a window-at-a-time loop compiled to branches that real data
// mispredicts, and took 3.5x as long on [64, 32, 28, 28] with 2x2 windows.
template <typename T, bool kIndices>
void max_pool_forward(const T* x, T* y, std::int64_t* indices, const pool::Geometry& g, const std::vector<Span>& rows,
                      const std::vector<Span>& cols, const ColumnTaps& taps, std::int64_t dil_h,
                      std::int64_t stride_w) {
  const auto kernel_w = static_cast<std::int64_t>(taps.offset.size());
  pool::for_each_plane(g.planes, g.planes * (g.in_plane() + g.out_plane()), [&](std::int64_t p) {
    const T* in = x + p * g.in_plane();
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      T* best = y + p * g.out_plane() + oh * g.out_w;
      std::int64_t* at = kIndices ? indices + p * g.out_plane() + oh * g.out_w : nullptr;
      const Span r = rows[oh];
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) best[ow] = -std::numeric_limits<T>::infinity();
      if constexpr (kIndices) {  // a window of -inf points at its first real element, as PyTorch's
        for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
          at[ow] = r.count > 0 && cols[ow].count > 0 ? r.first * g.width + cols[ow].first : -1;
        }
      }
      for (std::int64_t a = 0; a < r.count; ++a) {
        const std::int64_t row = (r.first + a * dil_h) * g.width;
        const T* src = in + row;
        for (std::int64_t b = 0; b < kernel_w; ++b) {
          update_row<T, kIndices>(src, row, stride_w, taps.offset[b], taps.lo[b], taps.hi[b], best, at);
        }
      }
    }
  });
}

struct MaxPool2dBackward final : Node {
  MaxPool2dBackward() : Node("max_pool2d") {}
  Tensor indices;  // int64, the output's shape: the argmax of each window within its plane
  Shape input_shape;
  pool::Geometry geo;
  // dL/dx[p, i] = sum of dL/dy[p, o] over the outputs o whose maximum is x[p, i].
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.contiguous();
    Tensor gx = zeros(input_shape, gy.dtype());
    const std::int64_t* idx = indices.data_ptr<std::int64_t>();
    kernels::dispatch_floating(gy.dtype(), name(), [&]<typename T>() {
      const T* g = gy.data_ptr<T>();
      T* out = gx.data_ptr<T>();
      const std::int64_t in_plane = geo.in_plane(), out_plane = geo.out_plane();
      pool::for_each_plane(geo.planes, geo.planes * (in_plane + out_plane), [&](std::int64_t p) {
        T* plane = out + p * in_plane;
        const T* gp = g + p * out_plane;
        const std::int64_t* ip = idx + p * out_plane;
        for (std::int64_t o = 0; o < out_plane; ++o) {
          if (ip[o] >= 0) plane[ip[o]] += gp[o];  // -1: a window with no real element
        }
      });
    });
    return {gx};
  }
  void release_saved() override { indices = Tensor(); }
};

std::pair<Tensor, Tensor> max_pool(const Tensor& input, const MaxPool2dParams& params, bool want_indices) {
  constexpr std::string_view op = "max_pool2d";
  pool::check_input(input, op, false);
  const Size2d stride = params.stride.value_or(params.kernel_size);
  pool::check_window(op, params.kernel_size, stride, params.padding, params.dilation);
  const pool::Geometry geo = pool::window_geometry(input.shape(), op, params.kernel_size, stride, params.padding,
                                                   params.dilation, params.ceil_mode);
  const std::vector<Span> rows =
      window_spans(geo.height, geo.out_h, params.kernel_size.h, stride.h, params.padding.h, params.dilation.h);
  const std::vector<Span> cols =
      window_spans(geo.width, geo.out_w, params.kernel_size.w, stride.w, params.padding.w, params.dilation.w);
  const ColumnTaps taps =
      column_taps(geo.width, geo.out_w, params.kernel_size.w, stride.w, params.padding.w, params.dilation.w);

  const Shape out_shape = pool::output_shape(input.shape(), geo.out_h, geo.out_w);
  const Tensor x = input.detach().contiguous();
  Tensor y = empty(out_shape, input.dtype());
  auto node = make_node<MaxPool2dBackward>({&input});
  // Indices only when someone reads them: a pooling under no_grad skips the bookkeeping.
  Tensor indices = want_indices || node ? empty(out_shape, kInt64) : Tensor();
  kernels::dispatch_floating(input.dtype(), op, [&]<typename T>() {
    if (indices.defined()) {
      max_pool_forward<T, true>(x.data_ptr<T>(), y.data_ptr<T>(), indices.data_ptr<std::int64_t>(), geo, rows, cols,
                                taps, params.dilation.h, stride.w);
    } else {
      max_pool_forward<T, false>(x.data_ptr<T>(), y.data_ptr<T>(), nullptr, geo, rows, cols, taps, params.dilation.h,
                                 stride.w);
    }
  });
  if (node) {
    node->indices = indices;
    node->input_shape = input.shape();
    node->geo = geo;
    set_history(y, std::move(node));
  }
  return {y, indices};
}

}  // namespace

Tensor max_pool2d(const Tensor& input, const MaxPool2dParams& params) { return max_pool(input, params, false).first; }

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, const MaxPool2dParams& params) {
  return max_pool(input, params, true);
}

}  // namespace descent
