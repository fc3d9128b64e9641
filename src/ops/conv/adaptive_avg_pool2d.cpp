// adaptive_avg_pool2d: output cell (i, j) of an [oh, ow] map averages input rows
// floor(i H / oh) .. ceil((i + 1) H / oh) - 1 and the same for columns, so the windows cover the
// whole image (overlapping by one when oh does not divide H), whatever its size.

#include <vector>

#include "descent/autograd/node.h"
#include "descent/ops/conv.h"
#include "kernels/dispatch.h"
#include "ops/conv/pool_util.h"

namespace descent {

namespace {

struct Range {
  std::int64_t begin = 0, end = 0;
};

std::vector<Range> adaptive_ranges(std::int64_t in, std::int64_t out) {
  std::vector<Range> r(out);
  for (std::int64_t o = 0; o < out; ++o) r[o] = {o * in / out, ((o + 1) * in + out - 1) / out};
  return r;
}

struct AdaptiveWindows {
  pool::Geometry geo;
  std::vector<Range> rows, cols;

  // Calls window(p, o, rows, cols) for every output o (flat within its plane) of every plane p.
  template <typename F>
  void for_each(F&& window) const {
    pool::for_each_plane(geo.planes, geo.planes * (geo.in_plane() + geo.out_plane()), [&](std::int64_t p) {
      for (std::int64_t oh = 0; oh < geo.out_h; ++oh) {
        for (std::int64_t ow = 0; ow < geo.out_w; ++ow) window(p, oh * geo.out_w + ow, rows[oh], cols[ow]);
      }
    });
  }
};

struct AdaptiveAvgPool2dBackward final : Node {
  AdaptiveAvgPool2dBackward() : Node("adaptive_avg_pool2d") {}
  AdaptiveWindows windows;
  Shape input_shape;
  // dL/dx[i] = sum over the windows containing i of dL/dy / (kh kw).
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.contiguous();
    Tensor gx = zeros(input_shape, gy.dtype());
    const pool::Geometry& g = windows.geo;
    kernels::dispatch_floating(gy.dtype(), name(), [&]<typename T>() {
      const T* go = gy.data_ptr<T>();
      T* gi = gx.data_ptr<T>();
      windows.for_each([&](std::int64_t p, std::int64_t o, const Range& r, const Range& c) {
        const T delta = go[p * g.out_plane() + o] / static_cast<T>(r.end - r.begin) / static_cast<T>(c.end - c.begin);
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

Tensor adaptive_avg_pool2d(const Tensor& input, Size2d output_size) {
  constexpr std::string_view op = "adaptive_avg_pool2d";
  pool::check_input(input, op, true);
  // PyTorch allows 0 (an empty output), not negative sizes.
  DESCENT_CHECK_VALUE(output_size.h >= 0 && output_size.w >= 0,
                      "adaptive_avg_pool2d: output_size must be >= 0, got {} for the input of shape {}",
                      to_string(output_size), input.shape());
  AdaptiveWindows w;
  w.geo = {.planes = input.numel() / (input.size(-2) * input.size(-1)),
           .height = input.size(-2),
           .width = input.size(-1),
           .out_h = output_size.h,
           .out_w = output_size.w};
  w.rows = adaptive_ranges(w.geo.height, w.geo.out_h);
  w.cols = adaptive_ranges(w.geo.width, w.geo.out_w);

  const Tensor x = input.detach().contiguous();
  Tensor y = empty(pool::output_shape(input.shape(), w.geo.out_h, w.geo.out_w), input.dtype());
  kernels::dispatch_floating(input.dtype(), op, [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* out = y.data_ptr<T>();
    const pool::Geometry& g = w.geo;
    w.for_each([&](std::int64_t p, std::int64_t o, const Range& r, const Range& c) {
      T sum = 0;
      const T* plane = in + p * g.in_plane();
      for (std::int64_t ih = r.begin; ih < r.end; ++ih) {
        for (std::int64_t iw = c.begin; iw < c.end; ++iw) sum += plane[ih * g.width + iw];
      }
      // As PyTorch: the sum divided by the window's height, then by its width.
      out[p * g.out_plane() + o] = sum / static_cast<T>(r.end - r.begin) / static_cast<T>(c.end - c.begin);
    });
  });
  if (auto node = make_node<AdaptiveAvgPool2dBackward>({&input})) {
    node->windows = std::move(w);
    node->input_shape = input.shape();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
