// Adagrad as torch.optim.Adagrad (1.13), _single_tensor_adagrad:
//   step += 1; clr = lr / (1 + (step - 1) * lr_decay)
//   g = grad (negated with maximize) [+ weight_decay * p]
//   sum += g * g;  p -= clr * g / (sqrt(sum) + eps)

#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<Adagrad, AdagradOptions, AdagradState>;

Adagrad::Adagrad(std::vector<Tensor> params, const AdagradOptions& options)
    : Adagrad(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& options)
    : BasicOptimizer("Adagrad", std::move(groups), options) {
  init_all_state();  // PyTorch creates Adagrad's state in the constructor
}

void Adagrad::validate(const AdagradOptions& o) {
  detail::check_lr("Adagrad", o.lr);
  detail::check_nonnegative("Adagrad", "lr_decay value", o.lr_decay);
  detail::check_nonnegative("Adagrad", "weight_decay value", o.weight_decay);
  detail::check_nonnegative("Adagrad", "initial_accumulator_value value", o.initial_accumulator_value);
  detail::check_eps("Adagrad", o.eps);
}

AdagradState Adagrad::init_state(const Tensor& param, const AdagradOptions& o) {
  return AdagradState{.step = 0, .sum = full_like(param, o.initial_accumulator_value)};
}

void Adagrad::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const AdagradOptions& o = options_[g];
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      AdagradState& st = state_for(g, i);
      st.step += 1;
      const double clr = o.lr / (1 + (st.step - 1) * o.lr_decay);
      detail::fused_update(p, grad, "Adagrad", [&]<typename T>(T* w, const T* gr, std::int64_t n) {
        const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps), neg_clr = static_cast<T>(-clr);
        const bool maximize = o.maximize, decay = o.weight_decay != 0;
        T* sum = st.sum.data_ptr<T>();
        detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j) {
            T d = maximize ? -gr[j] : gr[j];
            if (decay) d = d + wd * w[j];
            sum[j] = sum[j] + d * d;
            const T denom = std::sqrt(sum[j]) + eps;
            w[j] = w[j] + neg_clr * d / denom;
          }
        });
      });
    }
  }
}

}  // namespace descent::optim
