// conv2d, float32, NCHW, batch 64: implementations side by side on the layer shapes of the
// Fashion-MNIST CNN.
//
//   conv/<shape>/<pass>/descent      descent::conv2d as shipped: on oneDNN (src/ops/conv/conv2d_onednn.cpp),
//                                    through autograd: y = conv2d(x, w, b); y.backward(gy). Only
//                                    when descent was built with oneDNN.
//   conv/<shape>/<pass>/im2col       the same with backends::onednn::set_enabled(false): im2col +
//                                    one GEMM per group through OpenBLAS (the summary's baseline).
//   conv/<shape>/<pass>/direct       a direct convolution written here (below): register blocks of
//                                    8 contiguous output columns x 8 channels accumulated over
//                                    (ic, kh, kw), the 8 columns one vector (GCC vector extension,
//                                    built for AVX2+FMA and chosen at run time: the ISA OpenBLAS
//                                    runs here), OpenMP over (n, channel block); its two backward
//                                    kernels likewise.
//   conv/<shape>/<pass>/onednn_nchw  oneDNN primitives on plain nchw/oihw memory (no reorders).
//   conv/<shape>/<pass>/onednn_any   oneDNN primitives with the layouts oneDNN prefers (blocked);
//                                    the reorders from and back to nchw/oihw are timed too, since a
//                                    library keeping NCHW tensors would pay them on every call.
//                                    (Both only when the benchmark was built with oneDNN.)
//
// Shapes (N = 64): a: 1->32, 3x3, pad 1 on 28x28; b: 32->64, 3x3, pad 1 on 14x14; c: 64->64, 3x3,
// stride 2, pad 1 on 14x14; d: 64->128, 1x1 on 7x7. Passes: fwd (forward, with bias) and fwdbwd
// (forward, then the input, weight and bias gradients for a given output gradient; the input
// gradient is computed for shape a too, although a first layer would not need it).
// Every variant allocates its outputs (and its scratch buffers: padded copies, packed weights) with
// descent::empty on each call, as an op inside descent would; oneDNN's internal blocked buffers are
// allocated once. Before timing, every variant's results are checked against descent::conv2d.
// GFLOP = 2 N OC OH OW IC/groups KH KW per forward, 3x that for fwdbwd, reported as a rate;
// "faults" = minor page faults per call (fresh pages of freshly allocated buffers).
// The summary at the end prints the GFLOP/s medians side by side, the winner per shape and the
// implementation oneDNN picked (its impl_info_str).
//
// Run with --benchmark_repetitions=5 (bench/run.sh does): the summary then uses medians.

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "summary.h"

#ifdef DESCENT_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using descent::Tensor;

struct ConvShape {
  const char* name;
  const char* text;
  std::int64_t n, ic, h, w, oc, k, stride, pad;
  std::int64_t oh() const { return (h + 2 * pad - k) / stride + 1; }
  std::int64_t ow() const { return (w + 2 * pad - k) / stride + 1; }
  double gflop_forward() const { return 2.0 * n * oc * oh() * ow() * ic * k * k / 1e9; }
};

const std::vector<ConvShape>& shapes() {
  static const std::vector<ConvShape> list = {
      {"a", "1->32 3x3 p1 28x28", 64, 1, 28, 28, 32, 3, 1, 1},
      {"b", "32->64 3x3 p1 14x14", 64, 32, 14, 14, 64, 3, 1, 1},
      {"c", "64->64 3x3 s2 p1 14x14", 64, 64, 14, 14, 64, 3, 2, 1},
      {"d", "64->128 1x1 7x7", 64, 64, 7, 7, 128, 1, 1, 0},
  };
  return list;
}

// The inputs of one shape, the same for every variant.
struct Data {
  Tensor x, w, b, gy;
};
Data make_data(const ConvShape& s) {
  descent::Generator gen(42);
  const double bound = 1.0 / std::sqrt(static_cast<double>(s.ic * s.k * s.k));
  return {descent::randn({s.n, s.ic, s.h, s.w}, gen),
          descent::mul(descent::randn({s.oc, s.ic, s.k, s.k}, gen), bound),
          descent::randn({s.oc}, gen), descent::randn({s.n, s.oc, s.oh(), s.ow()}, gen)};
}

// What every variant must reproduce, computed once per shape by descent::conv2d.
struct Reference {
  Tensor y, gx, gw, gb;
};
const Reference& reference(const ConvShape& s) {
  static std::map<std::string, Reference> cache;
  auto it = cache.find(s.name);
  if (it != cache.end()) return it->second;
  const Data d = make_data(s);
  const Tensor x = d.x.clone(), w = d.w.clone(), b = d.b.clone();
  x.requires_grad_();
  w.requires_grad_();
  b.requires_grad_();
  const Tensor y = descent::conv2d(x, w, b, {.stride = s.stride, .padding = s.pad});
  y.backward(d.gy);
  return cache[s.name] = {y.detach(), x.grad(), w.grad(), b.grad()};
}

// Largest |a - b| over the largest |b| (1 when b is all zeros).
double relative_error(const Tensor& a, const Tensor& b) {
  const float* pa = a.data_ptr<float>();
  const float* pb = b.contiguous().data_ptr<float>();
  double diff = 0, scale = 0;
  for (std::int64_t i = 0; i < b.numel(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(pa[i] - pb[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(pb[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// Checks the outputs of one call against the reference; false (and a skip) on a mismatch.
bool check(benchmark::State& state, const ConvShape& s, bool backward, const Tensor& y, const Tensor& gx,
           const Tensor& gw, const Tensor& gb) {
  const Reference& r = reference(s);
  struct Item {
    const char* what;
    const Tensor* got;
    const Tensor* want;
  };
  std::vector<Item> items{{"y", &y, &r.y}};
  if (backward) items.insert(items.end(), {{"gx", &gx, &r.gx}, {"gw", &gw, &r.gw}, {"gb", &gb, &r.gb}});
  for (const Item& item : items) {
    const double e = relative_error(*item.got, *item.want);
    if (!(e < 1e-4)) {
      const std::string msg = std::string(item.what) + " differs from descent::conv2d: relative error " +
                              std::to_string(e);
      state.SkipWithError(msg.c_str());
      return false;
    }
  }
  return true;
}

// Minor page faults of the process so far: a fresh (never touched) page of a buffer costs one.
long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// The counters every variant reports: GFLOP as a rate, and minor page faults per call since `faults_before`.
void set_counters(benchmark::State& state, const ConvShape& s, bool backward, long faults_before) {
  state.counters["GFLOP"] = benchmark::Counter(s.gflop_forward() * (backward ? 3 : 1),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["faults"] =
      benchmark::Counter(static_cast<double>(minor_faults() - faults_before), benchmark::Counter::kAvgIterations);
}

// oneDNN's implementation names, for the summary: g_impl["c/fwdbwd/onednn_any"].
std::map<std::string, std::string>& g_impl() {
  static std::map<std::string, std::string> m;
  return m;
}

// --- 1. descent::conv2d --------------------------------------------------------------------------

// onednn: descent::conv2d as shipped (float32 on oneDNN); off: its im2col + GEMM path.
void bm_descent(benchmark::State& state, const ConvShape& s, bool backward, bool onednn) {
  descent::set_num_threads(static_cast<int>(state.range(0)));
  struct Restore {
    bool before = descent::backends::onednn::enabled();
    ~Restore() { descent::backends::onednn::set_enabled(before); }
  } restore;
  descent::backends::onednn::set_enabled(onednn);
  const Data d = make_data(s);
  const descent::Conv2dParams params{.stride = s.stride, .padding = s.pad};
  if (backward) {
    d.x.requires_grad_();
    d.w.requires_grad_();
    d.b.requires_grad_();
  }
  auto step = [&] {
    Tensor y = descent::conv2d(d.x, d.w, d.b, params);
    if (backward) y.backward(d.gy);
    return y;
  };
  const Tensor y0 = step();  // untimed warm-up call, checked
  if (!check(state, s, backward, y0.detach(), d.x.grad(), d.w.grad(), d.b.grad())) return;
  const long faults_before = minor_faults();
  for (auto _ : state) {
    if (backward) {  // a fresh gradient each step, as after zero_grad(), not an accumulation
      d.x.set_grad(Tensor());
      d.w.set_grad(Tensor());
      d.b.set_grad(Tensor());
    }
    Tensor y = step();
    benchmark::DoNotOptimize(y.data_ptr<float>());
    benchmark::ClobberMemory();
  }
  set_counters(state, s, backward, faults_before);
}

// --- 2. a direct convolution ---------------------------------------------------------------------
//
// Layouts: xp is the input with its zero padding made explicit (and zero columns on the right, so
// a block of kV output columns never reads past a row); gyp is the output gradient with the zero
// margins the input gradient's windows reach into (make_geo). Weights are repacked so that the 8
// channels of a register block are contiguous.

constexpr std::int64_t kV = 8;  // output columns per register block (one AVX2 vector)
constexpr std::int64_t kB = 8;  // channels per register block

// A row of kV floats held in one register (GCC/Clang vector extension; split into two SSE
// registers by a baseline build). Written this way because GCC's vectorizer, given plain loops
// over acc[kB][kV], vectorized across the channels and spent its time transposing (4 GFLOP/s).
typedef float v8 __attribute__((vector_size(kV * sizeof(float))));

// kV floats from p, p + s, p + 2s, ... (one unaligned load when S == 1, two and a shuffle when S == 2).
template <int S>
[[gnu::always_inline]] inline v8 load_row(const float* p, std::int64_t s) {
  v8 v;
  if constexpr (S == 1) {
    std::memcpy(&v, p, sizeof v);
  } else if constexpr (S == 2) {
    v8 lo, hi;
    std::memcpy(&lo, p, sizeof lo);
    std::memcpy(&hi, p + kV, sizeof hi);
    v = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
  } else {
    for (int j = 0; j < kV; ++j) v[j] = p[j * (S ? S : s)];
  }
  return v;
}

struct Geo {
  std::int64_t n, ic, h, w, oc, k, s, p, oh, ow;
  std::int64_t xh, xw;        // padded input plane
  std::int64_t gp, gyh, gyw;  // margin and plane of the padded output gradient
};

std::int64_t round_up(std::int64_t a, std::int64_t m) { return (a + m - 1) / m * m; }
std::int64_t ceil_div(std::int64_t a, std::int64_t m) { return (a + m - 1) / m; }

// bwd_data_task's column blocks per step for an input-channel block of B (kept in step with it).
constexpr std::int64_t bwd_data_columns(std::int64_t block) { return kV * (block >= 4 ? 1 : 4 / block); }

Geo make_geo(const ConvShape& c) {
  Geo g{c.n, c.ic, c.h, c.w, c.oc, c.k, c.stride, c.pad, c.oh(), c.ow(), 0, 0, 0, 0, 0};
  g.xh = std::max(g.h + 2 * g.p, (g.oh - 1) * g.s + g.k);
  g.xw = std::max(g.w + 2 * g.p, round_up(g.ow, kV) * g.s + g.k);  // a block reads kV * s columns from its start
  // The input gradient reads gy at row i + dh, i < ceil(h / s), dh in [-(k - 1 - p) / s, (s - 1 + p) / s]
  // (columns likewise, in blocks), and the weight gradient reads rows < oh, columns < round_up(ow, kV).
  g.gp = std::max<std::int64_t>(0, ceil_div(g.k - 1 - g.p, g.s));
  const std::int64_t reach = (g.s - 1 + g.p) / g.s;
  const std::int64_t columns = bwd_data_columns(g.ic % kB == 0 ? kB : 1);
  g.gyh = g.gp + std::max(g.oh, ceil_div(g.h, g.s) + reach);
  g.gyw = g.gp + std::max(round_up(g.ow, kV), round_up(ceil_div(g.w, g.s), columns) + reach);
  return g;
}

// Copies each [rows, cols] plane of src into a zeroed [prows, pcols] plane of dst at (top, left).
void pad_planes(const float* src, std::int64_t planes, std::int64_t rows, std::int64_t cols, float* dst,
                std::int64_t prows, std::int64_t pcols, std::int64_t top, std::int64_t left) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < planes; ++i) {
    float* d = dst + i * prows * pcols;
    std::memset(d, 0, sizeof(float) * prows * pcols);
    for (std::int64_t r = 0; r < rows; ++r) std::memcpy(d + (r + top) * pcols + left, src + (i * rows + r) * cols,
                                                        sizeof(float) * cols);
  }
}

// Forward, one task: sample n, output channels [ob * kB, ob * kB + kB). For each block of kV
// output columns, kB x kV sums in registers over (ic, kh, kw): per tap one row load, kB weights.
template <int S>
[[gnu::always_inline]] inline void fwd_task(const Geo& g, const float* xp, const float* wpk, const float* bias,
                                            float* y, std::int64_t n, std::int64_t ob) {
  const std::int64_t s = S ? S : g.s;
  const float* wblk = wpk + ob * g.ic * g.k * g.k * kB;  // [ic][kh][kw][kB]
  for (std::int64_t oh = 0; oh < g.oh; ++oh) {
    for (std::int64_t ow0 = 0; ow0 < g.ow; ow0 += kV) {
      v8 acc[kB];
      for (std::int64_t o = 0; o < kB; ++o) acc[o] = bias[ob * kB + o] + v8{};
      for (std::int64_t ic = 0; ic < g.ic; ++ic) {
        const float* plane = xp + (n * g.ic + ic) * g.xh * g.xw;
        for (std::int64_t kh = 0; kh < g.k; ++kh) {
          const float* row = plane + (oh * s + kh) * g.xw + ow0 * s;
          const float* wk = wblk + (ic * g.k + kh) * g.k * kB;
          for (std::int64_t kw = 0; kw < g.k; ++kw) {
            const v8 xv = load_row<S>(row + kw, s);
            for (std::int64_t o = 0; o < kB; ++o) acc[o] += wk[kw * kB + o] * xv;
          }
        }
      }
      const std::int64_t m = std::min(kV, g.ow - ow0);
      for (std::int64_t o = 0; o < kB; ++o) {
        float* dst = y + ((n * g.oc + ob * kB + o) * g.oh + oh) * g.ow + ow0;
        if (m == kV) std::memcpy(dst, &acc[o], sizeof(v8));
        else for (std::int64_t j = 0; j < m; ++j) dst[j] = acc[o][j];
      }
    }
  }
}

// Input gradient, one task: sample n, input channels [ib * B, ib * B + B). Split by output phase
// (ih mod s, iw mod s): each phase is a stride-1 correlation of gy with the kernel taps that reach
// it, so the inner loop reads gy contiguously whatever the stride. With few channels per block
// (B = 1: a single input channel), NJ = 4 / B column blocks at once keep 4 independent sums going.
template <int B>
[[gnu::always_inline]] inline void bwd_data_task(const Geo& g, const float* gyp, const float* wt, float* gx,
                                                 std::int64_t n, std::int64_t ib) {
  constexpr int NJ = static_cast<int>(bwd_data_columns(B) / kV);
  const std::int64_t s = g.s;
  for (std::int64_t a = 0; a < s; ++a) {
    for (std::int64_t c = 0; c < s; ++c) {
      const std::int64_t ni = ceil_div(g.h - a, s), nj = ceil_div(g.w - c, s);
      for (std::int64_t i = 0; i < ni; ++i) {
        for (std::int64_t j0 = 0; j0 < nj; j0 += kV * NJ) {
          v8 acc[B][NJ];
          for (std::int64_t q = 0; q < B; ++q)
            for (int u = 0; u < NJ; ++u) acc[q][u] = v8{};
          for (std::int64_t oc = 0; oc < g.oc; ++oc) {
            const float* plane = gyp + (n * g.oc + oc) * g.gyh * g.gyw;
            const float* wo = wt + (ib * g.oc + oc) * g.k * g.k * B;  // [kh][kw][B]
            for (std::int64_t kh = (a + g.p) % s; kh < g.k; kh += s) {
              const std::int64_t dh = (a + g.p - kh) / s;  // exact
              const float* row = plane + (g.gp + i + dh) * g.gyw + g.gp + j0;
              for (std::int64_t kw = (c + g.p) % s; kw < g.k; kw += s) {
                const float* src = row + (c + g.p - kw) / s;
                v8 gv[NJ];
                for (int u = 0; u < NJ; ++u) gv[u] = load_row<1>(src + u * kV, 1);
                for (std::int64_t q = 0; q < B; ++q) {
                  const float wv = wo[(kh * g.k + kw) * B + q];
                  for (int u = 0; u < NJ; ++u) acc[q][u] += wv * gv[u];
                }
              }
            }
          }
          const std::int64_t ih = a + s * i;
          for (int u = 0; u < NJ; ++u) {
            const std::int64_t jb = j0 + u * kV;
            if (jb >= nj) break;
            const std::int64_t m = std::min(kV, nj - jb);
            for (std::int64_t q = 0; q < B; ++q) {
              float* dst = gx + ((n * g.ic + ib * B + q) * g.h + ih) * g.w + c;
              if (s == 1 && m == kV) std::memcpy(dst + jb, &acc[q][u], sizeof(v8));
              else for (std::int64_t j = 0; j < m; ++j) dst[s * (jb + j)] = acc[q][u][j];
            }
          }
        }
      }
    }
  }
}

// Weight gradient, one task: output channels [ob * kB, ob * kB + kB), all input channels; a
// reduction over n, oh, ow in kV lanes per (channel, input channel, tap), summed at the end. The
// sample loop is outermost so that its kB gradient planes stay in L1 while every (ic, kh, kw)
// reads them; the partial sums wait in `partial` (ic * kh * kw * kB vectors) between samples.
template <int S>
[[gnu::always_inline]] inline void bwd_weights_task(const Geo& g, const float* xp, const float* gyp, float* gw,
                                                    std::int64_t ob, v8* partial) {
  const std::int64_t s = S ? S : g.s;
  const std::int64_t kk = g.k * g.k;
  for (std::int64_t i = 0; i < g.ic * kk * kB; ++i) partial[i] = v8{};
  for (std::int64_t n = 0; n < g.n; ++n) {
    const float* gbase = gyp + ((n * g.oc + ob * kB) * g.gyh + g.gp) * g.gyw + g.gp;
    for (std::int64_t ic = 0; ic < g.ic; ++ic) {
      const float* xplane = xp + (n * g.ic + ic) * g.xh * g.xw;
      for (std::int64_t kh = 0; kh < g.k; ++kh) {
        for (std::int64_t kw = 0; kw < g.k; ++kw) {
          v8* sums = partial + (ic * kk + kh * g.k + kw) * kB;
          v8 acc[kB];
          for (std::int64_t o = 0; o < kB; ++o) acc[o] = sums[o];
          for (std::int64_t oh = 0; oh < g.oh; ++oh) {
            const float* xrow = xplane + (oh * s + kh) * g.xw + kw;
            const float* grow = gbase + oh * g.gyw;
            for (std::int64_t ow0 = 0; ow0 < g.ow; ow0 += kV) {  // columns past ow: gy is zero there
              const v8 xv = load_row<S>(xrow + ow0 * s, s);
              for (std::int64_t o = 0; o < kB; ++o) acc[o] += load_row<1>(grow + o * g.gyh * g.gyw + ow0, 1) * xv;
            }
          }
          for (std::int64_t o = 0; o < kB; ++o) sums[o] = acc[o];
        }
      }
    }
  }
  for (std::int64_t ic = 0; ic < g.ic; ++ic) {
    for (std::int64_t t = 0; t < kk; ++t) {
      for (std::int64_t o = 0; o < kB; ++o) {
        const v8 v = partial[(ic * kk + t) * kB + o];
        float sum = 0;
        for (int j = 0; j < kV; ++j) sum += v[j];
        gw[((ob * kB + o) * g.ic + ic) * kk + t] = sum;
      }
    }
  }
}

// Each kernel built twice: for AVX2+FMA (picked at run time when the CPU has them, as OpenBLAS
// picks its Haswell kernels) and for the baseline ISA the library is compiled for.
#define DIRECT_KERNELS(SUFFIX, ATTR)                                                                        \
  template <int S>                                                                                          \
  ATTR void fwd_tasks_##SUFFIX(const Geo& g, const float* xp, const float* wpk, const float* b, float* y) { \
    const std::int64_t blocks = g.oc / kB;                                                                  \
    _Pragma("omp parallel for collapse(2) schedule(static)") for (std::int64_t n = 0; n < g.n; ++n) {      \
      for (std::int64_t ob = 0; ob < blocks; ++ob) fwd_task<S>(g, xp, wpk, b, y, n, ob);                    \
    }                                                                                                       \
  }                                                                                                         \
  template <int B>                                                                                          \
  ATTR void bwd_data_tasks_##SUFFIX(const Geo& g, const float* gyp, const float* wt, float* gx) {           \
    const std::int64_t blocks = g.ic / B;                                                                   \
    _Pragma("omp parallel for collapse(2) schedule(static)") for (std::int64_t n = 0; n < g.n; ++n) {      \
      for (std::int64_t ib = 0; ib < blocks; ++ib) bwd_data_task<B>(g, gyp, wt, gx, n, ib);                 \
    }                                                                                                       \
  }                                                                                                         \
  template <int S>                                                                                          \
  ATTR void bwd_weights_tasks_##SUFFIX(const Geo& g, const float* xp, const float* gyp, float* gw) {       \
    const std::int64_t blocks = g.oc / kB;                                                                  \
    _Pragma("omp parallel") {                                                                               \
      /* std::vector<v8> would not be 32-byte aligned */                                                    \
      v8* partial = static_cast<v8*>(std::aligned_alloc(64, sizeof(v8) * g.ic * g.k * g.k * kB));          \
      _Pragma("omp for schedule(dynamic)") for (std::int64_t ob = 0; ob < blocks; ++ob)                     \
        bwd_weights_task<S>(g, xp, gyp, gw, ob, partial);                                                   \
      std::free(partial);                                                                                   \
    }                                                                                                       \
  }

#if defined(__x86_64__) && defined(__GNUC__)
#define DESCENT_BENCH_AVX2 1
DIRECT_KERNELS(avx2, [[gnu::target("avx2,fma")]])
#endif
DIRECT_KERNELS(base, )

bool use_avx2() {
#ifdef DESCENT_BENCH_AVX2
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

#ifdef DESCENT_BENCH_AVX2
#define DIRECT_DISPATCH(NAME, TARG, ...) (use_avx2() ? NAME##_avx2<TARG>(__VA_ARGS__) : NAME##_base<TARG>(__VA_ARGS__))
#else
#define DIRECT_DISPATCH(NAME, TARG, ...) NAME##_base<TARG>(__VA_ARGS__)
#endif

struct DirectResult {
  Tensor y, gx, gw, gb;
};

// One call of the direct convolution: forward and, with backward, the three gradients.
DirectResult direct_conv(const Geo& g, const Data& d, bool backward) {
  const float* x = d.x.data_ptr<float>();
  const float* w = d.w.data_ptr<float>();
  const std::int64_t kk = g.k * g.k;
  // Padded input, kept for the weight gradient.
  const Tensor xp = descent::empty({g.n * g.ic * g.xh * g.xw});
  pad_planes(x, g.n * g.ic, g.h, g.w, xp.data_ptr<float>(), g.xh, g.xw, g.p, g.p);
  // Weights as [oc / kB][ic][kh][kw][kB].
  const Tensor wpk = descent::empty({g.oc * g.ic * kk});
  {
    float* p = wpk.data_ptr<float>();
    for (std::int64_t oc = 0; oc < g.oc; ++oc)
      for (std::int64_t ic = 0; ic < g.ic; ++ic)
        for (std::int64_t t = 0; t < kk; ++t) p[((oc / kB * g.ic + ic) * kk + t) * kB + oc % kB] = w[(oc * g.ic + ic) * kk + t];
  }
  DirectResult r;
  r.y = descent::empty({g.n, g.oc, g.oh, g.ow});
  const float* b = d.b.data_ptr<float>();
  if (g.s == 1) DIRECT_DISPATCH(fwd_tasks, 1, g, xp.data_ptr<float>(), wpk.data_ptr<float>(), b, r.y.data_ptr<float>());
  else if (g.s == 2) DIRECT_DISPATCH(fwd_tasks, 2, g, xp.data_ptr<float>(), wpk.data_ptr<float>(), b, r.y.data_ptr<float>());
  else DIRECT_DISPATCH(fwd_tasks, 0, g, xp.data_ptr<float>(), wpk.data_ptr<float>(), b, r.y.data_ptr<float>());
  if (!backward) return r;

  const float* gy = d.gy.data_ptr<float>();
  const Tensor gyp = descent::empty({g.n * g.oc * g.gyh * g.gyw});
  pad_planes(gy, g.n * g.oc, g.oh, g.ow, gyp.data_ptr<float>(), g.gyh, g.gyw, g.gp, g.gp);
  // Input gradient: weights as [ic / B][oc][kh][kw][B].
  const std::int64_t block = g.ic % kB == 0 ? kB : 1;
  const Tensor wt = descent::empty({g.oc * g.ic * kk});
  {
    float* p = wt.data_ptr<float>();
    for (std::int64_t oc = 0; oc < g.oc; ++oc)
      for (std::int64_t ic = 0; ic < g.ic; ++ic)
        for (std::int64_t t = 0; t < kk; ++t)
          p[((ic / block * g.oc + oc) * kk + t) * block + ic % block] = w[(oc * g.ic + ic) * kk + t];
  }
  r.gx = descent::empty({g.n, g.ic, g.h, g.w});
  if (block == kB) DIRECT_DISPATCH(bwd_data_tasks, 8, g, gyp.data_ptr<float>(), wt.data_ptr<float>(), r.gx.data_ptr<float>());
  else DIRECT_DISPATCH(bwd_data_tasks, 1, g, gyp.data_ptr<float>(), wt.data_ptr<float>(), r.gx.data_ptr<float>());
  r.gw = descent::empty({g.oc, g.ic, g.k, g.k});
  if (g.s == 1) DIRECT_DISPATCH(bwd_weights_tasks, 1, g, xp.data_ptr<float>(), gyp.data_ptr<float>(), r.gw.data_ptr<float>());
  else if (g.s == 2) DIRECT_DISPATCH(bwd_weights_tasks, 2, g, xp.data_ptr<float>(), gyp.data_ptr<float>(), r.gw.data_ptr<float>());
  else DIRECT_DISPATCH(bwd_weights_tasks, 0, g, xp.data_ptr<float>(), gyp.data_ptr<float>(), r.gw.data_ptr<float>());
  // Bias gradient: the sum of each channel's gradient.
  r.gb = descent::empty({g.oc});
  float* gb = r.gb.data_ptr<float>();
  const std::int64_t l = g.oh * g.ow;
#pragma omp parallel for schedule(static)
  for (std::int64_t oc = 0; oc < g.oc; ++oc) {
    double sum = 0;
    for (std::int64_t n = 0; n < g.n; ++n) {
      const float* p = gy + (n * g.oc + oc) * l;
      float part = 0;
#pragma omp simd reduction(+ : part)
      for (std::int64_t i = 0; i < l; ++i) part += p[i];
      sum += part;
    }
    gb[oc] = static_cast<float>(sum);
  }
  return r;
}

void bm_direct(benchmark::State& state, const ConvShape& s, bool backward) {
  descent::set_num_threads(static_cast<int>(state.range(0)));
  if (s.oc % kB != 0) {
    state.SkipWithError("the direct kernel needs out_channels divisible by 8");
    return;
  }
  const Data d = make_data(s);
  const Geo g = make_geo(s);
  const DirectResult r0 = direct_conv(g, d, backward);  // untimed warm-up call, checked
  if (!check(state, s, backward, r0.y, r0.gx, r0.gw, r0.gb)) return;
  const long faults_before = minor_faults();
  for (auto _ : state) {
    DirectResult r = direct_conv(g, d, backward);
    benchmark::DoNotOptimize(r.y.data_ptr<float>());
    benchmark::ClobberMemory();
  }
  set_counters(state, s, backward, faults_before);
}

// --- 3. oneDNN -----------------------------------------------------------------------------------

#ifdef DESCENT_BENCH_HAVE_DNNL
namespace dn = dnnl;
using tag = dn::memory::format_tag;
using dt = dn::memory::data_type;

// A tensor kept by the caller in a plain layout (user_md) and the layout a primitive wants: when
// they differ, a buffer in the wanted layout and the reorders between the two, made once.
struct Staged {
  dn::memory::desc user_md, want_md;
  std::optional<dn::memory> buf;
  std::optional<dn::reorder> to_want, to_user;
  Staged() = default;
  Staged(const dn::engine& eng, const dn::memory::desc& user, const dn::memory::desc& want, bool input)
      : user_md(user), want_md(want) {
    if (user == want) return;
    buf = dn::memory(want, eng);
    if (input) to_want = dn::reorder(dn::reorder::primitive_desc(eng, user, eng, want));
    else to_user = dn::reorder(dn::reorder::primitive_desc(eng, want, eng, user));
  }
  // An input: the user's data in the wanted layout (reordered into buf when needed).
  dn::memory in(const dn::engine& eng, dn::stream& strm, float* user) {
    dn::memory u(user_md, eng, user);
    if (!buf) return u;
    to_want->execute(strm, {{DNNL_ARG_FROM, u}, {DNNL_ARG_TO, *buf}});
    return *buf;
  }
  // An output: where the primitive writes; finish() copies it to the user's buffer when needed.
  dn::memory out(const dn::engine& eng, float* user) { return buf ? *buf : dn::memory(user_md, eng, user); }
  void finish(const dn::engine& eng, dn::stream& strm, float* user) {
    if (buf) to_user->execute(strm, {{DNNL_ARG_FROM, *buf}, {DNNL_ARG_TO, dn::memory(user_md, eng, user)}});
  }
};

struct OneDnnConv {
  dn::engine eng{dn::engine::kind::cpu, 0};
  dn::stream strm{eng};
  bool backward;
  dn::memory::desc x_md, w_md, b_md, y_md;
  dn::convolution_forward fwd;
  dn::convolution_backward_data bwd_data;
  dn::convolution_backward_weights bwd_weights;
  Staged fx, fw, fy;           // forward: src, weights, dst
  Staged dgy, dw, dgx;         // backward data: diff_dst, weights, diff_src
  Staged wx, wgy, wgw;         // backward weights: src, diff_dst, diff_weights
  std::string impl;

  OneDnnConv(const ConvShape& s, bool backward_, bool any) : backward(backward_) {
    x_md = {{s.n, s.ic, s.h, s.w}, dt::f32, tag::nchw};
    w_md = {{s.oc, s.ic, s.k, s.k}, dt::f32, tag::oihw};
    b_md = {{s.oc}, dt::f32, tag::x};
    y_md = {{s.n, s.oc, s.oh(), s.ow()}, dt::f32, tag::nchw};
    auto pick = [&](const dn::memory::desc& plain) {
      return any ? dn::memory::desc(plain.dims(), dt::f32, tag::any) : plain;
    };
    const dn::memory::dims strides{s.stride, s.stride}, pad{s.pad, s.pad};
    const auto prop = backward ? dn::prop_kind::forward_training : dn::prop_kind::forward_inference;
    const dn::convolution_forward::primitive_desc fpd(
        dn::convolution_forward::desc(prop, dn::algorithm::convolution_direct, pick(x_md), pick(w_md), b_md,
                                      pick(y_md), strides, pad, pad),
        eng);
    fwd = dn::convolution_forward(fpd);
    fx = Staged(eng, x_md, fpd.src_desc(), true);
    fw = Staged(eng, w_md, fpd.weights_desc(), true);
    fy = Staged(eng, y_md, fpd.dst_desc(), false);
    impl = std::string("fwd ") + fpd.impl_info_str();
    if (!backward) return;
    const dn::convolution_backward_data::primitive_desc dpd(
        dn::convolution_backward_data::desc(dn::algorithm::convolution_direct, pick(x_md), pick(w_md), pick(y_md),
                                            strides, pad, pad),
        eng, fpd);
    bwd_data = dn::convolution_backward_data(dpd);
    dgy = Staged(eng, y_md, dpd.diff_dst_desc(), true);
    dw = Staged(eng, w_md, dpd.weights_desc(), true);
    dgx = Staged(eng, x_md, dpd.diff_src_desc(), false);
    const dn::convolution_backward_weights::primitive_desc wpd(
        dn::convolution_backward_weights::desc(dn::algorithm::convolution_direct, pick(x_md), pick(w_md), b_md,
                                               pick(y_md), strides, pad, pad),
        eng, fpd);
    bwd_weights = dn::convolution_backward_weights(wpd);
    wx = Staged(eng, x_md, wpd.src_desc(), true);
    wgy = Staged(eng, y_md, wpd.diff_dst_desc(), true);
    wgw = Staged(eng, w_md, wpd.diff_weights_desc(), false);
    impl += std::string(", bwd_data ") + dpd.impl_info_str() + ", bwd_weights " + wpd.impl_info_str();
  }

  DirectResult run(const Data& d) {
    float* x = d.x.data_ptr<float>();
    float* w = d.w.data_ptr<float>();
    float* b = d.b.data_ptr<float>();
    DirectResult r;
    r.y = descent::empty(d.gy.shape());
    float* y = r.y.data_ptr<float>();
    const dn::memory xm = fx.in(eng, strm, x), wm = fw.in(eng, strm, w);
    fwd.execute(strm, {{DNNL_ARG_SRC, xm},
                       {DNNL_ARG_WEIGHTS, wm},
                       {DNNL_ARG_BIAS, dn::memory(b_md, eng, b)},
                       {DNNL_ARG_DST, fy.out(eng, y)}});
    fy.finish(eng, strm, y);
    if (backward) {
      float* gy = d.gy.data_ptr<float>();
      r.gx = descent::empty(d.x.shape());
      r.gw = descent::empty(d.w.shape());
      r.gb = descent::empty(d.b.shape());
      float* gx = r.gx.data_ptr<float>();
      float* gw = r.gw.data_ptr<float>();
      // The same layout as the forward's is not reordered twice.
      const dn::memory gym = dgy.in(eng, strm, gy);
      const dn::memory wdm = dw.want_md == fw.want_md ? wm : dw.in(eng, strm, w);
      bwd_data.execute(strm, {{DNNL_ARG_DIFF_DST, gym}, {DNNL_ARG_WEIGHTS, wdm}, {DNNL_ARG_DIFF_SRC, dgx.out(eng, gx)}});
      dgx.finish(eng, strm, gx);
      const dn::memory xwm = wx.want_md == fx.want_md ? xm : wx.in(eng, strm, x);
      const dn::memory gywm = wgy.want_md == dgy.want_md ? gym : wgy.in(eng, strm, gy);
      bwd_weights.execute(strm, {{DNNL_ARG_SRC, xwm},
                                 {DNNL_ARG_DIFF_DST, gywm},
                                 {DNNL_ARG_DIFF_WEIGHTS, wgw.out(eng, gw)},
                                 {DNNL_ARG_DIFF_BIAS, dn::memory(b_md, eng, r.gb.data_ptr<float>())}});
      wgw.finish(eng, strm, gw);
    }
    strm.wait();
    return r;
  }
};

void bm_onednn(benchmark::State& state, const ConvShape& s, bool backward, bool any) {
  descent::set_num_threads(static_cast<int>(state.range(0)));  // omp_set_num_threads: oneDNN's OpenMP
  const Data d = make_data(s);
  std::optional<OneDnnConv> conv;
  try {
    conv.emplace(s, backward, any);
  } catch (const dn::error& e) {
    state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
    return;
  }
  g_impl()[std::string(s.name) + (backward ? "/fwdbwd/" : "/fwd/") + (any ? "onednn_any" : "onednn_nchw")] = conv->impl;
  const DirectResult r0 = conv->run(d);  // untimed warm-up call, checked
  if (!check(state, s, backward, r0.y, r0.gx, r0.gw, r0.gb)) return;
  const long faults_before = minor_faults();
  for (auto _ : state) {
    DirectResult r = conv->run(d);
    benchmark::DoNotOptimize(r.y.data_ptr<float>());
    benchmark::ClobberMemory();
  }
  set_counters(state, s, backward, faults_before);
}
#endif

// --- registration and summary --------------------------------------------------------------------

std::vector<std::string> impl_names() {
  std::vector<std::string> names{"im2col", "direct"};
  if (descent::backends::onednn::is_available()) names.insert(names.begin(), "descent");
#ifdef DESCENT_BENCH_HAVE_DNNL
  names.insert(names.end(), {"onednn_nchw", "onednn_any"});
#endif
  return names;
}

void print_summary(std::ostream& os, const descent_bench::Results& results) {
  const std::vector<std::string> impls = impl_names();
  os << "\nSummary (medians, GFLOP/s; fwdbwd counts 3x the forward's flops). direct: "
     << (use_avx2() ? "AVX2+FMA build" : "baseline build") << ".\n"
     << "With 1 thread each cell is 'wall (cpu)': the rate by wall time and by the benchmark thread's CPU\n"
     << "time (which leaves out the time other processes held the core; the winner is by CPU time).\n"
     << "With 2 threads only wall time means anything. faults: minor page faults per call (descent).\n";
  char line[512];
  for (const char* pass : {"fwd", "fwdbwd"}) {
    for (const std::string threads : {"threads:1", "threads:2"}) {
      const bool one = threads == "threads:1";
      bool any_result = false;  // a table is left out when the filter left out all its cases
      for (const auto& [name, by_args] : results) {
        if (name.find(std::string("/") + pass + "/") != std::string::npos && by_args.count(threads)) any_result = true;
      }
      if (!any_result) continue;
      os << "\n" << pass << ", " << threads << "\n";
      std::snprintf(line, sizeof line, "%-26s", "shape");
      os << line;
      for (const std::string& impl : impls) {
        std::snprintf(line, sizeof line, " %14s", impl.c_str());
        os << line;
      }
      os << " faults  winner (vs descent)\n";
      for (const ConvShape& s : shapes()) {
        std::snprintf(line, sizeof line, "%s: %-23s", s.name, s.text);
        os << line;
        double best = 0, base = 0, faults = -1;
        std::string winner = "-";
        for (const std::string& impl : impls) {
          const auto fn = results.find(std::string("conv/") + s.name + "/" + pass + "/" + impl);
          const descent_bench::Result* r = nullptr;
          if (fn != results.end()) {
            const auto it = fn->second.find(threads);
            if (it != fn->second.end() && it->second.counters.count("GFLOP")) r = &it->second;
          }
          double v = 0;
          if (r == nullptr) {
            std::snprintf(line, sizeof line, " %14s", "-");
          } else if (one) {
            const double cpu = r->counters.at("GFLOP") * r->seconds / r->cpu_seconds;
            v = cpu;
            char cell[32];
            std::snprintf(cell, sizeof cell, "%.1f (%.1f)", r->counters.at("GFLOP"), cpu);
            std::snprintf(line, sizeof line, " %14s", cell);
          } else {
            v = r->counters.at("GFLOP");
            std::snprintf(line, sizeof line, " %14.1f", v);
          }
          os << line;
          if (impl == "im2col") {
            base = v;
            if (r != nullptr && r->counters.count("faults")) faults = r->counters.at("faults");
          }
          if (v > best) best = v, winner = impl;
        }
        if (faults >= 0) std::snprintf(line, sizeof line, " %6.0f", faults);
        else std::snprintf(line, sizeof line, " %6s", "-");
        os << line;
        if (base > 0 && best > 0) std::snprintf(line, sizeof line, "  %s (x%.2f)\n", winner.c_str(), best / base);
        else std::snprintf(line, sizeof line, "  %s\n", winner.c_str());
        os << line;
      }
    }
  }
  if (!g_impl().empty()) {
    os << "\noneDNN implementations picked:\n";
    for (const auto& [key, impl] : g_impl()) os << "  " << key << ": " << impl << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::int64_t> threads{1, 2};
  for (const ConvShape& s : shapes()) {
    for (const bool backward : {false, true}) {
      const std::string prefix = std::string("conv/") + s.name + (backward ? "/fwdbwd/" : "/fwd/");
      std::vector<std::pair<std::string, std::function<void(benchmark::State&)>>> variants{
          {"im2col", [&s, backward](benchmark::State& st) { bm_descent(st, s, backward, false); }},
          {"direct", [&s, backward](benchmark::State& st) { bm_direct(st, s, backward); }},
      };
      if (descent::backends::onednn::is_available())
        variants.push_back({"descent", [&s, backward](benchmark::State& st) { bm_descent(st, s, backward, true); }});
#ifdef DESCENT_BENCH_HAVE_DNNL
      variants.push_back({"onednn_nchw", [&s, backward](benchmark::State& st) { bm_onednn(st, s, backward, false); }});
      variants.push_back({"onednn_any", [&s, backward](benchmark::State& st) { bm_onednn(st, s, backward, true); }});
#endif
      for (auto& [impl, fn] : variants) {
        benchmark::RegisterBenchmark((prefix + impl).c_str(), fn)
            ->ArgNames({"threads"})
            ->ArgsProduct({threads})
            ->MinTime(0.2)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return descent_bench::run_with_summary(argc, argv, print_summary);
}
