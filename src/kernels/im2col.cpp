#include "kernels/im2col.h"

#include <algorithm>
#include <cstring>

#include "kernels/dispatch.h"
#include "kernels/iterate.h"
#include "kernels/parallel.h"

namespace descent::kernels {

namespace {

// The output positions ow in [lo, hi) read input columns iw = ow * stride + offset inside [0, W);
// the others read padding.
struct ValidRange {
  std::int64_t lo, hi;
};
ValidRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t size, std::int64_t out) {
  // smallest ow with ow * stride + offset >= 0, and smallest with ow * stride + offset >= size
  auto first_at_least = [&](std::int64_t bound) {
    const std::int64_t need = bound - offset;
    return need <= 0 ? 0 : std::min(out, (need + stride - 1) / stride);
  };
  return {first_at_least(0), std::max(first_at_least(0), first_at_least(size))};
}

template <typename T>
void im2col_impl(const T* x, const ConvGeometry& g, T* col) {
  const std::int64_t kk = g.kernel_h * g.kernel_w;
  const std::int64_t rows = g.col_rows();
  const std::int64_t l = g.out_h * g.out_w;
  const std::int64_t cols = g.col_cols();
  const bool parallel = rows * cols >= kParallelGrain;
  // One task per (row, sample): each writes its own stretch of l elements.
  parallel_for(rows * g.batch, parallel, [&](std::int64_t task) {
    const std::int64_t r = task / g.batch;
    const std::int64_t n = task % g.batch;
    const std::int64_t c = r / kk;
    const std::int64_t kh = (r % kk) / g.kernel_w;
    const std::int64_t kw = r % g.kernel_w;
    const T* plane = x + (n * g.channels + c) * g.height * g.width;
    T* out = col + r * cols + n * l;
    const std::int64_t w_offset = kw * g.dilation_w - g.pad_w;
    const ValidRange ok = valid_range(w_offset, g.stride_w, g.width, g.out_w);
    for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
      T* dst = out + oh * g.out_w;
      const std::int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
      if (ih < 0 || ih >= g.height) {
        std::fill(dst, dst + g.out_w, T(0));
        continue;
      }
      const T* src = plane + ih * g.width;  // input column of ow: ow * stride_w + w_offset
      std::fill(dst, dst + ok.lo, T(0));
      if (g.stride_w == 1) {
        if (ok.hi > ok.lo) std::copy(src + ok.lo + w_offset, src + ok.hi + w_offset, dst + ok.lo);
      } else {
        for (std::int64_t ow = ok.lo; ow < ok.hi; ++ow) dst[ow] = src[ow * g.stride_w + w_offset];
      }
      std::fill(dst + ok.hi, dst + g.out_w, T(0));
    }
  });
}

template <typename T>
void col2im_impl(const T* col, const ConvGeometry& g, T* gx) {
  const std::int64_t kk = g.kernel_h * g.kernel_w;
  const std::int64_t l = g.out_h * g.out_w;
  const std::int64_t cols = g.col_cols();
  const std::int64_t planes = g.batch * g.channels;
  const bool parallel = g.col_rows() * cols >= kParallelGrain;
  // One task per input plane (n, c): only the rows of channel c write to it, so tasks never collide.
  parallel_for(planes, parallel, [&](std::int64_t p) {
    const std::int64_t n = p / g.channels;
    const std::int64_t c = p % g.channels;
    T* plane = gx + p * g.height * g.width;
    std::fill(plane, plane + g.height * g.width, T(0));
    for (std::int64_t k = 0; k < kk; ++k) {
      const std::int64_t kh = k / g.kernel_w;
      const std::int64_t kw = k % g.kernel_w;
      const T* src = col + (c * kk + k) * cols + n * l;
      const std::int64_t w_offset = kw * g.dilation_w - g.pad_w;
      const ValidRange ok = valid_range(w_offset, g.stride_w, g.width, g.out_w);
      for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
        const std::int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
        if (ih < 0 || ih >= g.height) continue;
        T* dst = plane + ih * g.width;
        const T* row = src + oh * g.out_w;
        if (g.stride_w == 1) {
          for (std::int64_t ow = ok.lo; ow < ok.hi; ++ow) dst[ow + w_offset] += row[ow];
        } else {
          for (std::int64_t ow = ok.lo; ow < ok.hi; ++ow) dst[ow * g.stride_w + w_offset] += row[ow];
        }
      }
    }
  });
}

}  // namespace

void im2col(const Tensor& x, const ConvGeometry& g, const Tensor& col) {
  dispatch_floating(x.dtype(), "conv2d", [&]<typename T>() { im2col_impl(x.data_ptr<T>(), g, col.data_ptr<T>()); });
}

void col2im(const Tensor& col, const ConvGeometry& g, const Tensor& gx) {
  dispatch_floating(col.dtype(), "conv2d", [&]<typename T>() { col2im_impl(col.data_ptr<T>(), g, gx.data_ptr<T>()); });
}

void columns_to_batch(const Tensor& ym, const Tensor& bias, std::int64_t batch, const Tensor& y) {
  const std::int64_t channels = ym.size(0);
  const std::int64_t l = batch > 0 ? ym.size(1) / batch : 0;
  const bool parallel = ym.numel() >= kParallelGrain;
  dispatch_floating(ym.dtype(), "conv2d", [&]<typename T>() {
    const T* src = ym.data_ptr<T>();
    const T* b = bias.defined() ? bias.data_ptr<T>() : nullptr;
    T* dst = y.data_ptr<T>();
    parallel_for(batch * channels, parallel, [&](std::int64_t task) {
      const std::int64_t n = task / channels;
      const std::int64_t o = task % channels;
      const T* s = src + o * batch * l + n * l;
      T* d = dst + (n * channels + o) * l;
      const T add = b ? b[o] : T(0);
      for (std::int64_t i = 0; i < l; ++i) d[i] = s[i] + add;
    });
  });
}

void batch_to_columns(const Tensor& gy, const Tensor& gm, const Tensor& gb) {
  const std::int64_t batch = gy.size(0);
  const std::int64_t channels = gy.size(1);
  const std::int64_t l = gy.size(2);
  const bool parallel = gy.numel() >= kParallelGrain;
  dispatch_floating(gy.dtype(), "conv2d", [&]<typename T>() {
    const T* src = gy.data_ptr<T>();
    T* dst = gm.data_ptr<T>();
    T* b = gb.defined() ? gb.data_ptr<T>() : nullptr;
    // One task per channel, so the bias sum needs no reduction across threads.
    parallel_for(channels, parallel, [&](std::int64_t o) {
      double sum = 0.0;  // accumulated in double: a channel's sum runs over N * L terms
      for (std::int64_t n = 0; n < batch; ++n) {
        const T* s = src + (n * channels + o) * l;
        T* d = dst + o * batch * l + n * l;
        T partial = T(0);
        for (std::int64_t i = 0; i < l; ++i) {
          d[i] = s[i];
          partial += s[i];
        }
        sum += static_cast<double>(partial);
      }
      if (b) b[o] = static_cast<T>(sum);
    });
  });
}

}  // namespace descent::kernels
