// avg_pool2d: each output is the sum of its window over one input plane (zero padded) divided by
// divisor_override, or the window's size (count_include_pad), or the number of real elements in it.

#include <algorithm>
#include <optional>
#include <vector>

#include "descent/autograd/node.h"
#include "descent/ops/conv.h"
#include "kernels/dispatch.h"
#include "ops/conv/pool_util.h"

namespace descent {

namespace {

// One window along one dim: the real elements [begin, end), and the window's length clipped to
// the padded input only (what count_include_pad counts: with ceil_mode the last window may run
// past the padding, and that part never counts).
struct Extent {
  std::int64_t begin = 0, end = 0, padded = 0;
};

std::vector<Extent> extents(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                            std::int64_t padding) {
  std::vector<Extent> e(out);
  for (std::int64_t o = 0; o < out; ++o) {
    const std::int64_t start = o * stride - padding;
    const std::int64_t stop = std::min(start + kernel, in + padding);
    e[o] = {std::max<std::int64_t>(start, 0), std::min(stop, in), stop - start};
  }
  return e;
}

// Everything the forward and the backward need to visit the windows in the same way.
struct AvgWindows {
  pool::Geometry geo;
  std::vector<Extent> rows, cols;
  bool count_include_pad = true;
  std::optional<std::int64_t> divisor_override;

  // PyTorch's divide_factor for window (oh, ow); 0 for a window with no real element.
  std::int64_t divisor(const Extent& r, const Extent& c) const {
    if (divisor_override) return *divisor_override;
    if (count_include_pad) return r.padded * c.padded;
    return (r.end - r.begin) * (c.end - c.begin);
  }

  // Calls window(p, o, row extent, column extent) for every output o (flat within its plane) of every plane p.
  template <typename F>
  void for_each(F&& window) const {
    pool::for_each_plane(geo.planes, geo.planes * (geo.in_plane() + geo.out_plane()), [&](std::int64_t p) {
      for (std::int64_t oh = 0; oh < geo.out_h; ++oh) {
        for (std::int64_t ow = 0; ow < geo.out_w; ++ow) window(p, oh * geo.out_w + ow, rows[oh], cols[ow]);
      }
    });
  }
};

struct AvgPool2dBackward final : Node {
  AvgPool2dBackward() : Node("avg_pool2d") {}
  AvgWindows windows;
  Shape input_shape;
  // dL/dx[i] = sum over the windows containing i of dL/dy / divisor.
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.contiguous();
    Tensor gx = zeros(input_shape, gy.dtype());
    const pool::Geometry& g = windows.geo;
    kernels::dispatch_floating(gy.dtype(), name(), [&]<typename T>() {
      const T* go = gy.data_ptr<T>();
      T* gi = gx.data_ptr<T>();
      windows.for_each([&](std::int64_t p, std::int64_t o, const Extent& r, const Extent& c) {
        if (r.begin >= r.end || c.begin >= c.end) return;
        const T delta = go[p * g.out_plane() + o] / static_cast<T>(windows.divisor(r, c));
        T* plane = gi + p * g.in_plane();
        for (std::int64_t ih = r.begin; ih < r.end; ++ih) {
          for (std::int64_t iw = c.begin; iw < c.end; ++iw) plane[ih * g.width + iw] += delta;
        }
      });
    });
    return {gx};
  }
};

}  // namespace

Tensor avg_pool2d(const Tensor& input, const AvgPool2dParams& params) {
  constexpr std::string_view op = "avg_pool2d";
  pool::check_input(input, op, false);
  const Size2d stride = params.stride.value_or(params.kernel_size);
  pool::check_window(op, params.kernel_size, stride, params.padding, 1);
  DESCENT_CHECK_VALUE(!params.divisor_override || *params.divisor_override != 0,
                      "avg_pool2d: divisor_override must not be zero");
  AvgWindows w;
  w.geo = pool::window_geometry(input.shape(), op, params.kernel_size, stride, params.padding, 1, params.ceil_mode);
  w.rows = extents(w.geo.height, w.geo.out_h, params.kernel_size.h, stride.h, params.padding.h);
  w.cols = extents(w.geo.width, w.geo.out_w, params.kernel_size.w, stride.w, params.padding.w);
  w.count_include_pad = params.count_include_pad;
  w.divisor_override = params.divisor_override;

  const Tensor x = input.detach().contiguous();
  Tensor y = empty(pool::output_shape(input.shape(), w.geo.out_h, w.geo.out_w), input.dtype());
  kernels::dispatch_floating(input.dtype(), op, [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* out = y.data_ptr<T>();
    const pool::Geometry& g = w.geo;
    w.for_each([&](std::int64_t p, std::int64_t o, const Extent& r, const Extent& c) {
      T sum = 0;
      const T* plane = in + p * g.in_plane();
      for (std::int64_t ih = r.begin; ih < r.end; ++ih) {
        for (std::int64_t iw = c.begin; iw < c.end; ++iw) sum += plane[ih * g.width + iw];
      }
      // A window wholly in the padding (impossible with PyTorch's output size) outputs 0, as PyTorch.
      const bool empty_window = r.begin >= r.end || c.begin >= c.end;
      out[p * g.out_plane() + o] = empty_window ? T(0) : sum / static_cast<T>(w.divisor(r, c));
    });
  });
  if (auto node = make_node<AvgPool2dBackward>({&input})) {
    node->windows = std::move(w);
    node->input_shape = input.shape();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
