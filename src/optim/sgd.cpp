// SGD as torch.optim.SGD (1.13), _single_tensor_sgd:
//   d = grad (negated with maximize) [+ weight_decay * p]
//   momentum: buf = d on the first step, else buf = momentum * buf + (1 - dampening) * d;
//             d = d + momentum * buf (nesterov) or d = buf
//   p = p - lr * d

#include <cmath>

#include "descent/optim/optimizers.h"
#include "optim/basic.h"
#include "optim/fused.h"
#include "optim/validate.h"

namespace descent::optim {

template class BasicOptimizer<SGD, SGDOptions, SGDState>;

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params)}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : BasicOptimizer("SGD", std::move(groups), options) {}

void SGD::validate(const SGDOptions& o) {
  DESCENT_CHECK_VALUE(!std::isnan(o.lr), "SGD: a learning rate is required (SGD(params, {{.lr = 0.1}})), none was given");
  detail::check_lr("SGD", o.lr);
  detail::check_nonnegative("SGD", "momentum value", o.momentum);
  detail::check_nonnegative("SGD", "weight_decay value", o.weight_decay);
  DESCENT_CHECK_VALUE(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
                      "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum {}, dampening {})",
                      o.momentum, o.dampening);
}

SGDState SGD::init_state(const Tensor& param, const SGDOptions& o) {
  SGDState s;
  if (o.momentum != 0) s.momentum_buffer = zeros_like(param);
  return s;
}

void SGD::update() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const SGDOptions& o = options_[g];
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const Tensor& p = groups_[g][i];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      bool fresh = false;
      SGDState& st = state_for(g, i, &fresh);
      const bool use_momentum = o.momentum != 0;
      if (use_momentum && !st.momentum_buffer.defined()) {  // momentum turned on later (a schedule)
        st.momentum_buffer = zeros_like(p);
        fresh = true;
      }
      detail::fused_update(p, grad, "SGD", [&]<typename T>(T* w, const T* gr, std::int64_t n) {
        const T wd = static_cast<T>(o.weight_decay), mom = static_cast<T>(o.momentum);
        const T keep = static_cast<T>(1 - o.dampening), neg_lr = static_cast<T>(-o.lr);
        const bool maximize = o.maximize, nesterov = o.nesterov, decay = o.weight_decay != 0;
        T* buf = use_momentum ? st.momentum_buffer.data_ptr<T>() : nullptr;
        detail::parallel_range(n, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j) {
            T d = maximize ? -gr[j] : gr[j];
            if (decay) d = d + wd * w[j];
            if (buf != nullptr) {
              buf[j] = fresh ? d : buf[j] * mom + keep * d;
              d = nesterov ? d + mom * buf[j] : buf[j];
            }
            w[j] = w[j] + neg_lr * d;
          }
        });
      });
    }
  }
}

}  // namespace descent::optim
