// Sliding-window arithmetic shared by conv2d and the pooling ops.

#include <fmt/format.h>

#include "descent/ops/conv.h"

namespace descent {

std::string to_string(const Size2d& s) { return fmt::format("({}, {})", s.h, s.w); }

std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t padding,
                                std::int64_t dilation, bool ceil_mode) {
  // PyTorch's pooling_output_shape: the span the window covers is dilation * (kernel - 1) + 1. With
  // ceil_mode a window longer than the padded input still gives one output when rounding up reaches
  // it (avg_pool2d of a 1x1 image with kernel 2 and ceil_mode is 1x1); that window is clipped.
  const std::int64_t numerator = in + 2 * padding - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  if (numerator < 0) return 0;  // floor division would give <= -1 + 1: no window fits
  std::int64_t out = numerator / stride + 1;
  // With ceil_mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

}  // namespace descent
