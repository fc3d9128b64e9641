#pragma once
// What max_pool2d, avg_pool2d and adaptive_avg_pool2d share: the input checks, the geometry of a
// pooling over N * C independent planes, and the loop over those planes (split across OpenMP
// threads when there is enough work).

#include <cstdint>
#include <string>
#include <string_view>

#include "descent/ops/conv.h"
#include "internal/check.h"
#include "kernels/iterate.h"
#include "kernels/parallel.h"

namespace descent::pool {

/// A pooling seen as `planes` independent [height, width] -> [out_h, out_w] maps. A batched input
/// [N, C, H, W] has N * C planes, an unbatched [C, H, W] has C.
struct Geometry {
  std::int64_t planes = 0, height = 0, width = 0, out_h = 0, out_w = 0;
  std::int64_t in_plane() const { return height * width; }
  std::int64_t out_plane() const { return out_h * out_w; }
};

/// An input shape [N, C, H, W] or [C, H, W]; `who` is the op or the layer that complains. As in
/// PyTorch, the batch may be empty; so may the channels for adaptive pooling
/// (channels_may_be_empty), but never the image.
inline void check_shape(const Shape& s, std::string_view who, bool channels_may_be_empty) {
  const auto nd = static_cast<std::int64_t>(s.size());
  DESCENT_CHECK_SHAPE(nd == 3 || nd == 4, "{}: expected an input of shape [N, C, H, W] or [C, H, W], got {}", who, s);
  for (std::int64_t d = channels_may_be_empty ? nd - 2 : nd - 3; d < nd; ++d) {
    DESCENT_CHECK_SHAPE(s[d] > 0, "{}: expected non-empty {} dimensions, got an input of shape {}", who,
                        channels_may_be_empty ? "spatial" : "channel and spatial", s);
  }
}

/// A defined floating input of a shape check_shape accepts.
inline void check_input(const Tensor& x, std::string_view who, bool channels_may_be_empty) {
  DESCENT_CHECK_VALUE(x.defined(), "{}: the input is an undefined tensor", who);
  check_shape(x.shape(), who, channels_may_be_empty);
  DESCENT_CHECK_DTYPE(is_floating(x.dtype()), "{}: expected a floating dtype (float32 or float64), got {}", who,
                      dtype_name(x.dtype()));
}

/// PyTorch's checks of a window's parameters (ValueError naming op and the offending values).
inline void check_window(std::string_view who, const Size2d& kernel, const Size2d& stride, const Size2d& padding,
                         const Size2d& dilation) {
  DESCENT_CHECK_VALUE(kernel.h > 0 && kernel.w > 0, "{}: kernel_size must be positive, got {}", who, to_string(kernel));
  DESCENT_CHECK_VALUE(stride.h > 0 && stride.w > 0, "{}: stride must be positive, got {}", who, to_string(stride));
  DESCENT_CHECK_VALUE(dilation.h > 0 && dilation.w > 0, "{}: dilation must be positive, got {}", who,
                      to_string(dilation));
  DESCENT_CHECK_VALUE(padding.h >= 0 && padding.w >= 0, "{}: padding must be >= 0, got {}", who, to_string(padding));
  // PyTorch 1.13 compares with the kernel itself, not the dilated span.
  DESCENT_CHECK_VALUE(padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2,
                      "{}: pad should be at most half of kernel size, but got padding {} and kernel_size {}", who,
                      to_string(padding), to_string(kernel));
}

/// The geometry of a sliding-window pooling of an input of shape s (already checked); ShapeError
/// naming `who`, the input shape and the window when the image is too small for one window.
inline Geometry window_geometry(const Shape& s, std::string_view who, const Size2d& kernel, const Size2d& stride,
                                const Size2d& padding, const Size2d& dilation, bool ceil_mode) {
  Geometry g;
  g.height = s[s.size() - 2];
  g.width = s[s.size() - 1];
  g.planes = numel(s) / (g.height * g.width);
  g.out_h = window_output_size(g.height, kernel.h, stride.h, padding.h, dilation.h, ceil_mode);
  g.out_w = window_output_size(g.width, kernel.w, stride.w, padding.w, dilation.w, ceil_mode);
  DESCENT_CHECK_SHAPE(g.out_h > 0 && g.out_w > 0,
                      "{}: the input of shape {} is too small for kernel_size {} (stride {}, padding {}{}): the output "
                      "would be {}x{}",
                      who, s, to_string(kernel), to_string(stride), to_string(padding),
                      dilation == Size2d(1) ? std::string() : ", dilation " + to_string(dilation), g.out_h, g.out_w);
  return g;
}

/// The input's shape with the last two dims replaced by the output's.
inline Shape output_shape(const Shape& in, std::int64_t out_h, std::int64_t out_w) {
  Shape out = in;
  out[out.size() - 2] = out_h;
  out[out.size() - 1] = out_w;
  return out;
}

/// Calls plane(p) for every plane p < planes, in parallel when `work` (elements touched in all)
/// is worth a thread team (kernels::kParallelGrain).
template <typename F>
void for_each_plane(std::int64_t planes, std::int64_t work, F&& plane) {
  kernels::parallel_for(planes, work >= kernels::kParallelGrain, plane);
}

}  // namespace descent::pool
