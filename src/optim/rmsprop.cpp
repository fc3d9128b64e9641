// RMSprop as torch.optim.RMSprop (1.13), _single_tensor_rmsprop:
//   g = grad (negated with maximize) [+ weight_decay * p]
//   square_avg = alpha * square_avg + (1 - alpha) * g * g
//   centered: grad_avg = alpha * grad_avg + (1 - alpha) * g; avg = sqrt(square_avg - grad_avg^2) + eps
//   else:     avg = sqrt(square_avg) + eps
//   momentum > 0: buf = momentum * buf + g / avg; p -= lr * buf
//   else:         p -= lr * g / avg

#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<RMSprop, RMSpropOptions, RMSpropState>;

RMSprop::RMSprop(std::vector<Tensor> params, const RMSpropOptions& options)
    : RMSprop(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& options)
    : BasicOptimizer("RMSprop", std::move(groups), options) {}

void RMSprop::validate(const RMSpropOptions& o) {
  detail::check_lr("RMSprop", o.lr);
  detail::check_eps("RMSprop", o.eps);
  detail::check_nonnegative("RMSprop", "momentum value", o.momentum);
  detail::check_nonnegative("RMSprop", "weight_decay value", o.weight_decay);
  detail::check_nonnegative("RMSprop", "alpha value", o.alpha);
}

RMSpropState RMSprop::init_state(const Tensor& param, const RMSpropOptions& o) {
  RMSpropState s;
  s.square_avg = zeros_like(param);
  if (o.momentum > 0) s.momentum_buffer = zeros_like(param);
  if (o.centered) s.grad_avg = zeros_like(param);
  return s;
}

void RMSprop::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const RMSpropOptions& o = options_[g];
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      RMSpropState& st = state_for(g, i);
      // Options a schedule turned on after the state was created get zero buffers.
      if (o.momentum > 0 && !st.momentum_buffer.defined()) st.momentum_buffer = zeros_like(p);
      if (o.centered && !st.grad_avg.defined()) st.grad_avg = zeros_like(p);
      st.step += 1;
      detail::fused_update(p, grad, "RMSprop", [&]<typename T>(T* w, const T* gr, std::int64_t n) {
        const T wd = static_cast<T>(o.weight_decay), eps = static_cast<T>(o.eps), alpha = static_cast<T>(o.alpha);
        const T one_minus_alpha = static_cast<T>(1 - o.alpha), mom = static_cast<T>(o.momentum);
        const T neg_lr = static_cast<T>(-o.lr);
        const bool maximize = o.maximize, decay = o.weight_decay != 0;
        T* sq = st.square_avg.data_ptr<T>();
        T* ga = o.centered ? st.grad_avg.data_ptr<T>() : nullptr;
        T* buf = o.momentum > 0 ? st.momentum_buffer.data_ptr<T>() : nullptr;
        detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j) {
            T d = maximize ? -gr[j] : gr[j];
            if (decay) d = d + wd * w[j];
            sq[j] = sq[j] * alpha + one_minus_alpha * d * d;
            T avg;
            if (ga != nullptr) {
              ga[j] = ga[j] * alpha + one_minus_alpha * d;
              avg = std::sqrt(sq[j] + T(-1) * ga[j] * ga[j]);
            } else {
              avg = std::sqrt(sq[j]);
            }
            avg = avg + eps;
            if (buf != nullptr) {
              buf[j] = buf[j] * mom + d / avg;
              w[j] = w[j] + neg_lr * buf[j];
            } else {
              w[j] = w[j] + neg_lr * d / avg;
            }
          }
        });
      });
    }
  }
}

}  // namespace descent::optim
