// max_pool2d and max_pool2d_with_indices: each output is the maximum of its (dilated) window over
// one input plane, padded with -inf. max_pool2d_with_indices also returns where each maximum came
// from (PyTorch's flat h * W + w index within the plane); the backward finds those places again
// from the saved input and output and sends each output's gradient there.

#include <algorithm>
#include <limits>
#include <utility>
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
// loop over ow compiles to selects; a window-at-a-time loop with the same `||` compiled to
// branches that real data mispredicts, and took 3.5x as long on [64, 32, 28, 28] with 2x2 windows.
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

// Whether every window is a 2x2 block inside the image (stride 2, no padding, no dilation): the
// CNN's pooling, which has kernels of its own.
bool tiled_2x2(const MaxPool2dParams& params, const pool::Geometry& g) {
  return params.kernel_size == Size2d(2) && params.stride.value_or(params.kernel_size) == Size2d(2) &&
         params.padding == Size2d(0) && params.dilation == Size2d(1) && 2 * g.out_h <= g.height &&
         2 * g.out_w <= g.width;
}

// One tap of the forward's rule as selects: v replaces the best b when it is larger or NaN; a NaN
// b stays unless v is NaN too (so the last NaN wins, with its sign and payload, as in PyTorch).
// `v <= b ? b : v` is v when v > b, v is NaN or b is NaN; each select tests one comparison.
template <typename T>
T take_if_larger(T b, T v) {
  const T t = v <= b ? b : v;
  const T if_b_nan = v != v ? v : b;
  return b != b ? if_b_nan : t;
}

// The forward's values (no indices) for tiled 2x2 windows, a window at a time, in selects only,
// so the loop vectorizes (the tap-by-tap loop above makes four passes over a row of 14 or 7
// outputs).
template <typename T>
void max_pool_forward_2x2(const T* x, T* y, const pool::Geometry& g) {
  pool::for_each_plane(g.planes, g.planes * (g.in_plane() + g.out_plane()), [&](std::int64_t p) {
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      const T* r0 = x + p * g.in_plane() + 2 * oh * g.width;
      const T* r1 = r0 + g.width;
      T* out = y + p * g.out_plane() + oh * g.out_w;
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const T v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
        out[ow] = take_if_larger(take_if_larger(take_if_larger(v0, v1), v2), v3);
      }
    }
  });
}

// The backward finds each window's argmax again from the saved input and output instead of
// reading int64 indices the forward would have written: keeping those indices took two thirds of
// the forward's time on the CNN's 2x2 poolings, whose rows have only 14 and 7 outputs. The
// forward's rule gives: a number y is taken from the first tap (row-major) equal to it, whatever
// came later; a NaN from the last NaN tap. Ties between -0.0 and +0.0 compare equal both ways.
template <typename T>
std::int64_t argmax_in_window(const T* in, T y, Span r, Span c, std::int64_t width, std::int64_t dil_h,
                              std::int64_t dil_w) {
  std::int64_t at = -1;  // -1: a window with no real element
  for (std::int64_t a = 0; a < r.count; ++a) {
    const std::int64_t row = (r.first + a * dil_h) * width;
    for (std::int64_t b = 0; b < c.count; ++b) {
      const std::int64_t i = row + c.first + b * dil_w;
      if (y == y && in[i] == y) return i;
      if (y != y && in[i] != in[i]) at = i;
    }
  }
  return at;
}

// dL/dx[p, i] = sum of dL/dy[p, o] over the outputs o whose maximum is x[p, i], any window.
template <typename T>
void max_pool_backward(const T* x, const T* y, const T* gy, T* gx, const pool::Geometry& g,
                       const std::vector<Span>& rows, const std::vector<Span>& cols, std::int64_t dil_h,
                       std::int64_t dil_w) {
  pool::for_each_plane(g.planes, g.planes * (2 * g.in_plane() + 2 * g.out_plane()), [&](std::int64_t p) {
    const T* in = x + p * g.in_plane();
    T* out = gx + p * g.in_plane();
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const std::int64_t o = p * g.out_plane() + oh * g.out_w + ow;
        const std::int64_t at = argmax_in_window(in, y[o], rows[oh], cols[ow], g.width, dil_h, dil_w);
        if (at >= 0) out[at] += gy[o];
      }
    }
  });
}

// The same for 2x2 windows at stride 2 that all lie inside the image (no padding, no dilation):
// each input gets the gradient of at most one window, stored rather than added. w1, w2, w3 are
// the value the taps after the first, second and third still look for: the maximum until a tap
// equal to it has taken the gradient, then a NaN that nothing equals. Every store is one select
// on one comparison of values loaded unconditionally: that is what GCC 12 vectorizes (with bools
// combined by & or one comparison feeding two stores, it branched or gave up, and the backward
// took 2-4x as long). A NaN maximum equals none of its taps, so its window gets zeros here; a
// row holding one is then redone by the general rule.
template <typename T>
void max_pool_backward_2x2(const T* x, const T* y, const T* gy, T* gx, const pool::Geometry& g) {
  constexpr T kNan = std::numeric_limits<T>::quiet_NaN();
  pool::for_each_plane(g.planes, g.planes * (2 * g.in_plane() + 2 * g.out_plane()), [&](std::int64_t p) {
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      const std::int64_t top = p * g.in_plane() + 2 * oh * g.width, o = p * g.out_plane() + oh * g.out_w;
      const T *r0 = x + top, *r1 = r0 + g.width, *m = y + o, *d = gy + o;
      T *d0 = gx + top, *d1 = d0 + g.width;
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        const T v0 = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1], max = m[ow], grad = d[ow];
        const T w1 = v0 == max ? kNan : max, w2 = v1 == w1 ? kNan : w1, w3 = v2 == w2 ? kNan : w2;
        d0[2 * ow] = v0 == max ? grad : T(0);
        d0[2 * ow + 1] = v1 == w1 ? grad : T(0);
        d1[2 * ow] = v2 == w2 ? grad : T(0);
        d1[2 * ow + 1] = v3 == w3 ? grad : T(0);
      }
      for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
        if (m[ow] == m[ow]) continue;
        const std::int64_t at =
            argmax_in_window(x + p * g.in_plane(), m[ow], Span{2 * oh, 2}, Span{2 * ow, 2}, g.width, 1, 1);
        // The other three taps got 0 above. No NaN tap (-1) only if the output was changed after
        // the forward, behind autograd's back: then no input gets the gradient.
        if (at >= 0) gx[p * g.in_plane() + at] = d[ow];
      }
    }
  });
}

struct MaxPool2dBackward final : Node {
  MaxPool2dBackward() : Node("max_pool2d") {}
  Tensor x, y;  // the contiguous input and the output (the input is usually saved by the ReLU before)
  pool::Geometry geo;
  bool tiled = false;            // tiled_2x2: the 2x2 kernel; otherwise the general one with:
  std::vector<Span> rows, cols;  // the windows' real rows and columns
  Size2d dilation;
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.contiguous();
    // The 2x2 kernel writes every input its windows cover; only an odd last row or column is left.
    const bool covers_all = tiled && 2 * geo.out_h == geo.height && 2 * geo.out_w == geo.width;
    Tensor gx = covers_all ? empty(x.shape(), gy.dtype()) : zeros(x.shape(), gy.dtype());
    kernels::dispatch_floating(gy.dtype(), name(), [&]<typename T>() {
      if (tiled) {
        max_pool_backward_2x2<T>(x.data_ptr<T>(), y.data_ptr<T>(), gy.data_ptr<T>(), gx.data_ptr<T>(), geo);
      } else {
        max_pool_backward<T>(x.data_ptr<T>(), y.data_ptr<T>(), gy.data_ptr<T>(), gx.data_ptr<T>(), geo, rows, cols,
                             dilation.h, dilation.w);
      }
    });
    return {gx};
  }
  void release_saved() override { x = y = Tensor(); }
};

std::pair<Tensor, Tensor> max_pool(const Tensor& input, const MaxPool2dParams& params, bool want_indices) {
  constexpr std::string_view op = "max_pool2d";
  pool::check_input(input, op, false);
  const Size2d stride = params.stride.value_or(params.kernel_size);
  pool::check_window(op, params.kernel_size, stride, params.padding, params.dilation);
  const pool::Geometry geo = pool::window_geometry(input.shape(), op, params.kernel_size, stride, params.padding,
                                                   params.dilation, params.ceil_mode);
  std::vector<Span> rows =
      window_spans(geo.height, geo.out_h, params.kernel_size.h, stride.h, params.padding.h, params.dilation.h);
  std::vector<Span> cols =
      window_spans(geo.width, geo.out_w, params.kernel_size.w, stride.w, params.padding.w, params.dilation.w);
  const ColumnTaps taps =
      column_taps(geo.width, geo.out_w, params.kernel_size.w, stride.w, params.padding.w, params.dilation.w);

  const Shape out_shape = pool::output_shape(input.shape(), geo.out_h, geo.out_w);
  const Tensor x = input.detach().contiguous();
  Tensor y = empty(out_shape, input.dtype());
  auto node = make_node<MaxPool2dBackward>({&input});
  // Indices only when the caller asks for them: the backward finds the maxima again.
  Tensor indices = want_indices ? empty(out_shape, kInt64) : Tensor();
  const bool tiled = tiled_2x2(params, geo);
  kernels::dispatch_floating(input.dtype(), op, [&]<typename T>() {
    if (indices.defined()) {
      max_pool_forward<T, true>(x.data_ptr<T>(), y.data_ptr<T>(), indices.data_ptr<std::int64_t>(), geo, rows, cols,
                                taps, params.dilation.h, stride.w);
    } else if (tiled) {
      max_pool_forward_2x2<T>(x.data_ptr<T>(), y.data_ptr<T>(), geo);
    } else {
      max_pool_forward<T, false>(x.data_ptr<T>(), y.data_ptr<T>(), nullptr, geo, rows, cols, taps, params.dilation.h,
                                 stride.w);
    }
  });
  if (node) {
    node->x = x;
    node->y = y.detach();
    node->geo = geo;
    node->tiled = tiled;
    if (!tiled) {  // spans only for the general kernel: moved, they are not used below
      node->rows = std::move(rows);
      node->cols = std::move(cols);
      node->dilation = params.dilation;
    }
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
