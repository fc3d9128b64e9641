// NAdam as torch.optim.NAdam (1.13), _single_tensor_nadam:
//   step += 1; g = grad [+ weight_decay * p]
//   mu = beta1 (1 - 0.5 * 0.96^(step psi)),  mu_next = beta1 (1 - 0.5 * 0.96^((step + 1) psi))
//   mu_product *= mu   (a float32 tensor in PyTorch: kept in float32 precision here too)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   denom = sqrt(v / (1 - beta2^step)) + eps
//   p -= lr (1 - mu) / (1 - mu_product) * g / denom
//   p -= lr mu_next / (1 - mu_product * mu_next) * m / denom

#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<NAdam, NAdamOptions, NAdamState>;

NAdam::NAdam(std::vector<Tensor> params, const NAdamOptions& options)
    : NAdam(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

NAdam::NAdam(std::vector<ParamGroup> groups, const NAdamOptions& options)
    : BasicOptimizer("NAdam", std::move(groups), options) {}

void NAdam::validate(const NAdamOptions& o) {
  detail::check_lr("NAdam", o.lr);
  detail::check_eps("NAdam", o.eps);
  detail::check_betas("NAdam", o.betas);
  detail::check_nonnegative("NAdam", "weight_decay value", o.weight_decay);
  detail::check_nonnegative("NAdam", "momentum_decay value", o.momentum_decay);
}

NAdamState NAdam::init_state(const Tensor& param, const NAdamOptions&) {
  return NAdamState{.step = 0, .mu_product = 1, .exp_avg = zeros_like(param), .exp_avg_sq = zeros_like(param)};
}

void NAdam::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const NAdamOptions& o = options_[g];
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      NAdamState& st = state_for(g, i);
      st.step += 1;
      const double beta1 = o.betas.first, beta2 = o.betas.second;
      const double bias_correction2 = 1 - std::pow(beta2, st.step);
      const double mu = beta1 * (1. - 0.5 * std::pow(0.96, st.step * o.momentum_decay));
      const double mu_next = beta1 * (1. - 0.5 * std::pow(0.96, (st.step + 1) * o.momentum_decay));
      // float32 arithmetic, as PyTorch's float32 mu_product tensor times Python floats.
      const float product = static_cast<float>(st.mu_product) * static_cast<float>(mu);
      const float product_next = product * static_cast<float>(mu) * static_cast<float>(mu_next);
      st.mu_product = product;
      const double coef_grad = -o.lr * (1. - mu) / (1. - static_cast<double>(product));
      const double coef_avg = -o.lr * mu_next / (1. - static_cast<double>(product_next));
      detail::fused_update(p, grad, "NAdam", [&]<typename T>(T* w, const T* gr, std::int64_t n) {
        const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
        const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
        const T one_minus_b1 = static_cast<T>(1 - beta1), one_minus_b2 = static_cast<T>(1 - beta2);
        const T bc2 = static_cast<T>(bias_correction2);
        const T cg = static_cast<T>(coef_grad), ca = static_cast<T>(coef_avg);
        const bool decay = o.weight_decay != 0;
        T* m = st.exp_avg.data_ptr<T>();
        T* v = st.exp_avg_sq.data_ptr<T>();
        detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j) {
            T d = gr[j];
            if (decay) d = d + wd * w[j];
            m[j] = m[j] * b1 + one_minus_b1 * d;
            v[j] = v[j] * b2 + one_minus_b2 * d * d;
            const T denom = std::sqrt(v[j] / bc2) + eps;
            w[j] = w[j] + cg * d / denom;
            w[j] = w[j] + ca * m[j] / denom;
          }
        });
      });
    }
  }
}

}  // namespace descent::optim
