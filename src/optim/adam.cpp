// Adam and AdamW as torch.optim.Adam / AdamW (1.13), _single_tensor_adam(w):
//   step += 1
//   Adam:  g = grad (negated with maximize) [+ weight_decay * p]
//   AdamW: g = grad (negated with maximize); p *= 1 - lr * weight_decay
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   amsgrad: v_max = max(v_max, v), used in place of v below
//   p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)

#include <algorithm>
#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<Adam, AdamOptions, AdamState>;
template class BasicOptimizer<AdamW, AdamWOptions, AdamState>;

namespace {

template <typename Options>
void validate_adam(const char* name, const Options& o) {
  detail::check_lr(name, o.lr);
  detail::check_eps(name, o.eps);
  detail::check_betas(name, o.betas);
  detail::check_nonnegative(name, "weight_decay value", o.weight_decay);
}

template <typename Options>
AdamState init_adam_state(const Tensor& param, const Options& o) {
  AdamState s;
  s.exp_avg = zeros_like(param);
  s.exp_avg_sq = zeros_like(param);
  if (o.amsgrad) s.max_exp_avg_sq = zeros_like(param);
  return s;
}

// Adam's step without weight decay or amsgrad (the usual case) as one branch-free loop over
// non-aliasing pointers, which GCC vectorizes; the same arithmetic, in the same order, as the
// general loop in adam_update, so both give the same bits.
template <typename T>
[[gnu::always_inline]] inline void adam_plain_loop(T* __restrict w, const T* __restrict g, T* __restrict m,
                                                   T* __restrict v, std::int64_t begin, std::int64_t end, T sign, T b1,
                                                   T one_minus_b1, T b2, T one_minus_b2, T bc2_sqrt, T eps, T neg_step) {
  for (std::int64_t j = begin; j < end; ++j) {
    const T d = sign * g[j];
    const T mj = m[j] * b1 + one_minus_b1 * d;
    const T vj = v[j] * b2 + one_minus_b2 * d * d;
    m[j] = mj;
    v[j] = vj;
    w[j] = w[j] + neg_step * mj / (std::sqrt(vj) / bc2_sqrt + eps);
  }
}

// The loop is bound by the throughput of sqrt and divide, which AVX2 doubles (8 lanes): the library
// is built for baseline x86-64, so x86 builds carry an AVX2 clone too, picked at load time by the
// CPU (measured: 132 -> 72 us for the MLP's 235k parameters, docs/benchmarks.md). AVX2 without FMA
// rounds every operation as the baseline does: both clones give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DESCENT_AVX2_CLONES [[gnu::target_clones("avx2", "default")]]
#else
#define DESCENT_AVX2_CLONES
#endif

DESCENT_AVX2_CLONES void adam_plain_range(float* __restrict w, const float* __restrict g, float* __restrict m,
                                          float* __restrict v, std::int64_t begin, std::int64_t end, float sign,
                                          float b1, float one_minus_b1, float b2, float one_minus_b2, float bc2_sqrt,
                                          float eps, float neg_step) {
  adam_plain_loop(w, g, m, v, begin, end, sign, b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, neg_step);
}

DESCENT_AVX2_CLONES void adam_plain_range(double* __restrict w, const double* __restrict g, double* __restrict m,
                                          double* __restrict v, std::int64_t begin, std::int64_t end, double sign,
                                          double b1, double one_minus_b1, double b2, double one_minus_b2,
                                          double bc2_sqrt, double eps, double neg_step) {
  adam_plain_loop(w, g, m, v, begin, end, sign, b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, neg_step);
}

template <bool kDecoupled, typename Options>
void adam_update(const Tensor& p, const Tensor& grad, AdamState& st, const Options& o, const char* name) {
  if (o.amsgrad && !st.max_exp_avg_sq.defined()) st.max_exp_avg_sq = zeros_like(p);  // amsgrad turned on later
  st.step += 1;
  const double beta1 = o.betas.first, beta2 = o.betas.second;
  const double bias_correction1 = 1 - std::pow(beta1, st.step);
  const double bias_correction2 = 1 - std::pow(beta2, st.step);
  const double step_size = o.lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  detail::fused_update(p, grad, name, [&]<typename T>(T* w, const T* gr, std::int64_t n) {
    const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T one_minus_b1 = static_cast<T>(1 - beta1), one_minus_b2 = static_cast<T>(1 - beta2);
    const T decay_factor = static_cast<T>(1 - o.lr * o.weight_decay);
    const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt), neg_step = static_cast<T>(-step_size);
    const bool maximize = o.maximize, decay = o.weight_decay != 0;
    T* m = st.exp_avg.data_ptr<T>();
    T* v = st.exp_avg_sq.data_ptr<T>();
    T* vmax = o.amsgrad ? st.max_exp_avg_sq.data_ptr<T>() : nullptr;
    if (!decay && vmax == nullptr) {
      const T sign = maximize ? T(-1) : T(1);
      detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
        adam_plain_range(w, gr, m, v, b, e, sign, b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, neg_step);
      });
      return;
    }
    detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t j = b; j < e; ++j) {
        T d = maximize ? -gr[j] : gr[j];
        if constexpr (kDecoupled) {
          w[j] = w[j] * decay_factor;
        } else {
          if (decay) d = d + wd * w[j];
        }
        m[j] = m[j] * b1 + one_minus_b1 * d;
        v[j] = v[j] * b2 + one_minus_b2 * d * d;
        T denom;
        if (vmax != nullptr) {
          vmax[j] = std::max(vmax[j], v[j]);
          denom = std::sqrt(vmax[j]) / bc2_sqrt + eps;
        } else {
          denom = std::sqrt(v[j]) / bc2_sqrt + eps;
        }
        w[j] = w[j] + neg_step * m[j] / denom;
      }
    });
  });
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options)
    : BasicOptimizer("Adam", std::move(groups), options) {}

void Adam::validate(const AdamOptions& o) { validate_adam("Adam", o); }

AdamState Adam::init_state(const Tensor& param, const AdamOptions& o) { return init_adam_state(param, o); }

void Adam::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      adam_update<false>(p, grad, state_for(g, i), options_[g], "Adam");
    }
  }
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options)
    : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : BasicOptimizer("AdamW", std::move(groups), options) {}

void AdamW::validate(const AdamWOptions& o) { validate_adam("AdamW", o); }

AdamState AdamW::init_state(const Tensor& param, const AdamWOptions& o) { return init_adam_state(param, o); }

void AdamW::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      adam_update<true>(p, grad, state_for(g, i), options_[g], "AdamW");
    }
  }
}

}  // namespace descent::optim
