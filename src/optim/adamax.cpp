// Adamax as torch.optim.Adamax (1.13), _single_tensor_adamax:
//   step += 1; g = grad (negated with maximize) [+ weight_decay * p]
//   m = beta1 * m + (1 - beta1) * g
//   u = max(beta2 * u, |g| + eps)
//   p -= lr / (1 - beta1^step) * m / u

#include <algorithm>
#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<Adamax, AdamaxOptions, AdamaxState>;

Adamax::Adamax(std::vector<Tensor> params, const AdamaxOptions& options)
    : Adamax(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

Adamax::Adamax(std::vector<ParamGroup> groups, const AdamaxOptions& options)
    : BasicOptimizer("Adamax", std::move(groups), options) {}

void Adamax::validate(const AdamaxOptions& o) {
  detail::check_lr("Adamax", o.lr);
  detail::check_eps("Adamax", o.eps);
  detail::check_betas("Adamax", o.betas);
  detail::check_nonnegative("Adamax", "weight_decay value", o.weight_decay);
}

AdamaxState Adamax::init_state(const Tensor& param, const AdamaxOptions&) {
  return AdamaxState{.step = 0, .exp_avg = zeros_like(param), .exp_inf = zeros_like(param)};
}

void Adamax::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const AdamaxOptions& o = options_[g];
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      AdamaxState& st = state_for(g, i);
      st.step += 1;
      const double clr = o.lr / (1 - std::pow(o.betas.first, st.step));
      detail::fused_update(p, grad, "Adamax", [&]<typename T>(T* w, const T* gr, std::int64_t n) {
        const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps);
        const T b1 = static_cast<T>(o.betas.first), b2 = static_cast<T>(o.betas.second);
        const T one_minus_b1 = static_cast<T>(1 - o.betas.first), neg_clr = static_cast<T>(-clr);
        const bool maximize = o.maximize, decay = o.weight_decay != 0;
        T* m = st.exp_avg.data_ptr<T>();
        T* u = st.exp_inf.data_ptr<T>();
        detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j) {
            T d = maximize ? -gr[j] : gr[j];
            if (decay) d = d + wd * w[j];
            m[j] = m[j] * b1 + one_minus_b1 * d;
            const T decayed = u[j] * b2, fresh = std::abs(d) + eps;
            // torch.amax propagates NaN; std::max would not.
            u[j] = std::isnan(decayed) || decayed > fresh ? decayed : fresh;
            w[j] = w[j] + neg_clr * m[j] / u[j];
          }
        });
      });
    }
  }
}

}  // namespace descent::optim
