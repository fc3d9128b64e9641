// Adadelta as torch.optim.Adadelta (1.13), _single_tensor_adadelta:
//   g = grad (negated with maximize) [+ weight_decay * p]
//   square_avg = rho * square_avg + (1 - rho) * g * g
//   delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
//   acc_delta = rho * acc_delta + (1 - rho) * delta * delta
//   p -= lr * delta

#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<Adadelta, AdadeltaOptions, AdadeltaState>;

Adadelta::Adadelta(std::vector<Tensor> params, const AdadeltaOptions& options)
    : Adadelta(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

Adadelta::Adadelta(std::vector<ParamGroup> groups, const AdadeltaOptions& options)
    : BasicOptimizer("Adadelta", std::move(groups), options) {}

void Adadelta::validate(const AdadeltaOptions& o) {
  detail::check_lr("Adadelta", o.lr);
  DESCENT_CHECK_VALUE(o.rho >= 0.0 && o.rho <= 1.0, "Adadelta: invalid rho value: {} (expected 0 <= rho <= 1)", o.rho);
  detail::check_eps("Adadelta", o.eps);
  detail::check_nonnegative("Adadelta", "weight_decay value", o.weight_decay);
}

AdadeltaState Adadelta::init_state(const Tensor& param, const AdadeltaOptions&) {
  return AdadeltaState{.step = 0, .square_avg = zeros_like(param), .acc_delta = zeros_like(param)};
}

void Adadelta::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const AdadeltaOptions& o = options_[g];
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      AdadeltaState& st = state_for(g, i);
      st.step += 1;
      detail::fused_update(p, grad, "Adadelta", [&]<typename T>(T* w, const T* gr, std::int64_t n) {
        const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps), rho = static_cast<T>(o.rho);
        const T one_minus_rho = static_cast<T>(1 - o.rho), neg_lr = static_cast<T>(-o.lr);
        const bool maximize = o.maximize, decay = o.weight_decay != 0;
        T* sq = st.square_avg.data_ptr<T>();
        T* acc = st.acc_delta.data_ptr<T>();
        detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j) {
            T d = maximize ? -gr[j] : gr[j];
            if (decay) d = d + wd * w[j];
            sq[j] = sq[j] * rho + one_minus_rho * d * d;
            const T denom = std::sqrt(sq[j] + eps);
            const T delta = std::sqrt(acc[j] + eps) / denom * d;
            acc[j] = acc[j] * rho + one_minus_rho * delta * delta;
            w[j] = w[j] + neg_lr * delta;
          }
        });
      });
    }
  }
}

}  // namespace descent::optim
