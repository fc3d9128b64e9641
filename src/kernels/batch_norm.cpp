#include "kernels/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/iterate.h"
#include "kernels/parallel.h"

namespace descent::kernels {

namespace {

// x seen as [N, C, S]: channel c's elements are N runs of S contiguous values, run n at
// (n * C + c) * S. Each channel reduces over M = N * S elements.
struct Dims {
  std::int64_t n = 1, c = 1, s = 1;
  double m() const { return static_cast<double>(n * s); }
};

Dims dims_of(const Shape& shape) {
  Dims d;
  d.n = shape[0];
  d.c = shape[1];
  for (std::size_t k = 2; k < shape.size(); ++k) d.s *= shape[k];
  return d;
}

// With S = 1 ([N, C]) a channel's values are C apart: the loops then take kBlock adjacent channels
// at once and run along rows, vectorized across the channels.
constexpr std::int64_t kBlock = 32;

// Calls f(c0, c1) for blocks of channels (one channel each when S > 1), in parallel above
// kParallelGrain elements. Every pass of an op over a block runs inside one call, so the block's
// data stays in cache between the passes.
template <typename F>
void for_channel_blocks(const Dims& d, F f) {
  const std::int64_t block = d.s == 1 ? kBlock : 1;
  const std::int64_t blocks = (d.c + block - 1) / block;
  const bool parallel = d.n * d.c * d.s >= kParallelGrain && blocks > 1;
  parallel_for(blocks, parallel, [&](std::int64_t b) { f(b * block, std::min(d.c, (b + 1) * block)); });
}

template <typename T>
T param(const T* p, std::int64_t c, T fallback) {
  return p != nullptr ? p[c] : fallback;
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Mean and biased variance of channels [c0, c1): a pass for the mean, a second for the squared
// deviations from it (no cancellation, unlike sum(x^2) - sum(x)^2 / M).
template <typename T>
void stats_block(const T* x, const Dims& d, double eps, std::int64_t c0, std::int64_t c1, BatchNormStats& st) {
  const double m = d.m();
  if (d.s > 1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      double sum = 0.0;
      for (std::int64_t n = 0; n < d.n; ++n) {
        const T* p = x + (n * d.c + c) * d.s;
#pragma omp simd reduction(+ : sum)
        for (std::int64_t i = 0; i < d.s; ++i) sum += static_cast<double>(p[i]);
      }
      const double mean = sum / m;
      double sq = 0.0;
      for (std::int64_t n = 0; n < d.n; ++n) {
        const T* p = x + (n * d.c + c) * d.s;
#pragma omp simd reduction(+ : sq)
        for (std::int64_t i = 0; i < d.s; ++i) {
          const double dev = static_cast<double>(p[i]) - mean;
          sq += dev * dev;
        }
      }
      st.mean[c] = mean;
      st.var[c] = sq / m;
      st.invstd[c] = 1.0 / std::sqrt(sq / m + eps);
    }
    return;
  }
  const std::int64_t nb = c1 - c0;
  double sum[kBlock] = {}, sq[kBlock] = {}, mean[kBlock];
  for (std::int64_t n = 0; n < d.n; ++n) {
    const T* row = x + n * d.c + c0;
    for (std::int64_t j = 0; j < nb; ++j) sum[j] += static_cast<double>(row[j]);
  }
  for (std::int64_t j = 0; j < nb; ++j) mean[j] = sum[j] / m;
  for (std::int64_t n = 0; n < d.n; ++n) {
    const T* row = x + n * d.c + c0;
    for (std::int64_t j = 0; j < nb; ++j) {
      const double dev = static_cast<double>(row[j]) - mean[j];
      sq[j] += dev * dev;
    }
  }
  for (std::int64_t j = 0; j < nb; ++j) {
    st.mean[c0 + j] = mean[j];
    st.var[c0 + j] = sq[j] / m;
    st.invstd[c0 + j] = 1.0 / std::sqrt(sq[j] / m + eps);
  }
}

// y = (x - mean) * (invstd * w) + b over channels [c0, c1).
template <typename T>
void normalize_block(const T* x, T* y, const T* w, const T* b, const Dims& d, const BatchNormStats& st, std::int64_t c0,
                     std::int64_t c1) {
  if (d.s > 1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      const T mu = static_cast<T>(st.mean[c]);
      const T scale = static_cast<T>(st.invstd[c] * static_cast<double>(param(w, c, T(1))));
      const T shift = param(b, c, T(0));
      for (std::int64_t n = 0; n < d.n; ++n) {
        const std::int64_t off = (n * d.c + c) * d.s;
        const T* p = x + off;
        T* q = y + off;
        for (std::int64_t i = 0; i < d.s; ++i) q[i] = (p[i] - mu) * scale + shift;
      }
    }
    return;
  }
  const std::int64_t nb = c1 - c0;
  T mu[kBlock], scale[kBlock], shift[kBlock];
  for (std::int64_t j = 0; j < nb; ++j) {
    mu[j] = static_cast<T>(st.mean[c0 + j]);
    scale[j] = static_cast<T>(st.invstd[c0 + j] * static_cast<double>(param(w, c0 + j, T(1))));
    shift[j] = param(b, c0 + j, T(0));
  }
  for (std::int64_t n = 0; n < d.n; ++n) {
    const T* p = x + n * d.c + c0;
    T* q = y + n * d.c + c0;
    for (std::int64_t j = 0; j < nb; ++j) q[j] = (p[j] - mu[j]) * scale[j] + shift[j];
  }
}

// sum(gy) and sum(gy * (x - mean)) of channels [c0, c1), in double.
template <typename T>
void grad_sums_block(const T* x, const T* g, const Dims& d, const BatchNormStats& st, std::int64_t c0, std::int64_t c1,
                     double* sum_g, double* sum_gx) {
  if (d.s > 1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      const double mean = st.mean[c];
      double sg = 0.0, sgx = 0.0;
      for (std::int64_t n = 0; n < d.n; ++n) {
        const std::int64_t off = (n * d.c + c) * d.s;
        const T* p = x + off;
        const T* q = g + off;
#pragma omp simd reduction(+ : sg, sgx)
        for (std::int64_t i = 0; i < d.s; ++i) {
          const double gi = static_cast<double>(q[i]);
          sg += gi;
          sgx += gi * (static_cast<double>(p[i]) - mean);
        }
      }
      sum_g[c - c0] = sg;
      sum_gx[c - c0] = sgx;
    }
    return;
  }
  const std::int64_t nb = c1 - c0;
  double mean[kBlock];
  for (std::int64_t j = 0; j < nb; ++j) {
    mean[j] = st.mean[c0 + j];
    sum_g[j] = sum_gx[j] = 0.0;
  }
  for (std::int64_t n = 0; n < d.n; ++n) {
    const T* p = x + n * d.c + c0;
    const T* q = g + n * d.c + c0;
    for (std::int64_t j = 0; j < nb; ++j) {
      const double gi = static_cast<double>(q[j]);
      sum_g[j] += gi;
      sum_gx[j] += gi * (static_cast<double>(p[j]) - mean[j]);
    }
  }
}

// gx = (gy - shift - (x - mean) * proj) * scale over channels [c0, c1), where for training
// shift = sum(gy) / M and proj = sum(gy * xhat) * invstd / M, and in evaluation both are 0 (then
// x is not read).
template <typename T>
void input_grad_block(const T* x, const T* g, T* gx, const Dims& d, const BatchNormStats& st, bool training,
                      const double* shift_d, const double* proj_d, const T* w, std::int64_t c0, std::int64_t c1) {
  const std::int64_t nb = c1 - c0;
  T mu[kBlock], scale[kBlock], shift[kBlock], proj[kBlock];
  for (std::int64_t j = 0; j < nb; ++j) {
    mu[j] = static_cast<T>(st.mean[c0 + j]);
    scale[j] = static_cast<T>(st.invstd[c0 + j] * static_cast<double>(param(w, c0 + j, T(1))));
    shift[j] = training ? static_cast<T>(shift_d[j]) : T(0);
    proj[j] = training ? static_cast<T>(proj_d[j]) : T(0);
  }
  if (d.s > 1) {
    for (std::int64_t j = 0; j < nb; ++j) {
      const T m = mu[j], k = scale[j], sh = shift[j], pr = proj[j];
      for (std::int64_t n = 0; n < d.n; ++n) {
        const std::int64_t off = (n * d.c + c0 + j) * d.s;
        const T* p = x + off;
        const T* q = g + off;
        T* r = gx + off;
        if (training) {
          for (std::int64_t i = 0; i < d.s; ++i) r[i] = (q[i] - sh - (p[i] - m) * pr) * k;
        } else {
          for (std::int64_t i = 0; i < d.s; ++i) r[i] = q[i] * k;
        }
      }
    }
    return;
  }
  for (std::int64_t n = 0; n < d.n; ++n) {
    const std::int64_t off = n * d.c + c0;
    const T* p = x + off;
    const T* q = g + off;
    T* r = gx + off;
    if (training) {
      for (std::int64_t j = 0; j < nb; ++j) r[j] = (q[j] - shift[j] - (p[j] - mu[j]) * proj[j]) * scale[j];
    } else {
      for (std::int64_t j = 0; j < nb; ++j) r[j] = q[j] * scale[j];
    }
  }
}

}  // namespace

Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, BatchNormStats& stats) {
  const Dims d = dims_of(x.shape());
  stats.mean.assign(d.c, 0.0);
  stats.var.assign(d.c, 0.0);
  stats.invstd.assign(d.c, 0.0);
  Tensor y = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    const T* w = data_or_null<T>(weight);
    const T* b = data_or_null<T>(bias);
    T* yp = y.data_ptr<T>();
    for_channel_blocks(d, [&](std::int64_t c0, std::int64_t c1) {
      stats_block(xp, d, eps, c0, c1, stats);
      normalize_block(xp, yp, w, b, d, stats, c0, c1);
    });
  });
  return y;
}

Tensor batch_norm_apply(const Tensor& x, const Tensor& weight, const Tensor& bias, const BatchNormStats& stats) {
  const Dims d = dims_of(x.shape());
  Tensor y = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    const T* w = data_or_null<T>(weight);
    const T* b = data_or_null<T>(bias);
    T* yp = y.data_ptr<T>();
    for_channel_blocks(d, [&](std::int64_t c0, std::int64_t c1) { normalize_block(xp, yp, w, b, d, stats, c0, c1); });
  });
  return y;
}

BatchNormGrads batch_norm_backward(const Tensor& x, const Tensor& gy, const Tensor& weight, const BatchNormStats& stats,
                                   bool training, bool want_input, bool want_weight, bool want_bias) {
  const Dims d = dims_of(x.shape());
  BatchNormGrads out;
  if (want_input) out.input = empty(x.shape(), x.dtype());
  if (want_weight) out.weight = empty({d.c}, x.dtype());
  if (want_bias) out.bias = empty({d.c}, x.dtype());
  // The input gradient of training mode needs the sums too; evaluation mode's does not.
  const bool sums = want_weight || want_bias || (want_input && training);
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    const T* g = gy.data_ptr<T>();
    const T* w = data_or_null<T>(weight);
    T* gx = want_input ? out.input.data_ptr<T>() : nullptr;
    T* gw = want_weight ? out.weight.data_ptr<T>() : nullptr;
    T* gb = want_bias ? out.bias.data_ptr<T>() : nullptr;
    const double m = d.m();
    for_channel_blocks(d, [&](std::int64_t c0, std::int64_t c1) {
      double sum_g[kBlock] = {}, sum_gx[kBlock] = {}, shift[kBlock] = {}, proj[kBlock] = {};
      if (sums) grad_sums_block(xp, g, d, stats, c0, c1, sum_g, sum_gx);
      for (std::int64_t c = c0; c < c1; ++c) {
        const std::int64_t j = c - c0;
        const double invstd = stats.invstd[c];
        const double dot = sum_gx[j] * invstd;  // sum(gy * xhat)
        if (gw != nullptr) gw[c] = static_cast<T>(dot);
        if (gb != nullptr) gb[c] = static_cast<T>(sum_g[j]);
        shift[j] = sum_g[j] / m;
        proj[j] = dot * invstd / m;
      }
      if (gx != nullptr) input_grad_block(xp, g, gx, d, stats, training, shift, proj, w, c0, c1);
    });
  });
  return out;
}

}  // namespace descent::kernels
