#pragma once
// The first-order optimizers of torch.optim (1.13), with the same update rules, defaults, option
// names and state names:
//
//   SGD(params, {.lr = 0.1, .momentum = 0.9, .nesterov = true})
//   Adagrad, Adadelta, RMSprop, Adam, AdamW, Adamax, NAdam
//
// Each updates every parameter in one fused pass over its storage (float32 or float64).
// Invalid options throw descent::ValueError naming the optimizer and the value.

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "descent/optim/optimizer.h"

namespace descent::optim {

/// SGD's lr has no default (as in PyTorch 1.13): leaving it unset throws.
inline constexpr double kRequired = std::numeric_limits<double>::quiet_NaN();

// --- SGD ------------------------------------------------------------------------------------------

struct SGDOptions {
  double lr = kRequired;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("momentum", o.momentum), f("dampening", o.dampening), f("weight_decay", o.weight_decay),
        f("nesterov", o.nesterov), f("maximize", o.maximize);
  }
};
struct SGDState {
  Tensor momentum_buffer;  // only with momentum != 0; the first step's gradient on creation
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("momentum_buffer", s.momentum_buffer);
  }
};

/// Stochastic gradient descent with optional momentum (heavy ball or Nesterov), dampening,
/// L2 weight decay (added to the gradient) and maximize.
class SGD final : public BasicOptimizer<SGD, SGDOptions, SGDState> {
 public:
  explicit SGD(std::vector<Tensor> params, const SGDOptions& options = {});
  explicit SGD(std::vector<ParamGroup> groups, const SGDOptions& options = {});
  static void validate(const SGDOptions& o);
  static SGDState init_state(const Tensor& param, const SGDOptions& o);

 protected:
  void update() override;
};

// --- Adagrad --------------------------------------------------------------------------------------

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("lr_decay", o.lr_decay), f("weight_decay", o.weight_decay),
        f("initial_accumulator_value", o.initial_accumulator_value), f("eps", o.eps), f("maximize", o.maximize);
  }
};
struct AdagradState {
  double step = 0;
  Tensor sum;
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step), f("sum", s.sum);
  }
};

/// Adagrad: per-element learning rates lr / (sqrt(sum of squared gradients) + eps), with lr decayed
/// as lr / (1 + (step - 1) lr_decay). Its state exists from construction, as in PyTorch.
class Adagrad final : public BasicOptimizer<Adagrad, AdagradOptions, AdagradState> {
 public:
  explicit Adagrad(std::vector<Tensor> params, const AdagradOptions& options = {});
  explicit Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& options = {});
  static void validate(const AdagradOptions& o);
  static AdagradState init_state(const Tensor& param, const AdagradOptions& o);

 protected:
  void update() override;
};

// --- Adadelta -------------------------------------------------------------------------------------

struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("rho", o.rho), f("eps", o.eps), f("weight_decay", o.weight_decay), f("maximize", o.maximize);
  }
};
struct AdadeltaState {
  double step = 0;
  Tensor square_avg, acc_delta;
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step), f("square_avg", s.square_avg), f("acc_delta", s.acc_delta);
  }
};

/// Adadelta: steps scaled by RMS(previous updates) / RMS(gradients), times lr.
class Adadelta final : public BasicOptimizer<Adadelta, AdadeltaOptions, AdadeltaState> {
 public:
  explicit Adadelta(std::vector<Tensor> params, const AdadeltaOptions& options = {});
  explicit Adadelta(std::vector<ParamGroup> groups, const AdadeltaOptions& options = {});
  static void validate(const AdadeltaOptions& o);
  static AdadeltaState init_state(const Tensor& param, const AdadeltaOptions& o);

 protected:
  void update() override;
};

// --- RMSprop --------------------------------------------------------------------------------------

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("alpha", o.alpha), f("eps", o.eps), f("weight_decay", o.weight_decay),
        f("momentum", o.momentum), f("centered", o.centered), f("maximize", o.maximize);
  }
};
struct RMSpropState {
  double step = 0;
  Tensor square_avg;
  Tensor momentum_buffer;  // only with momentum > 0
  Tensor grad_avg;         // only when centered
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step), f("square_avg", s.square_avg), f("momentum_buffer", s.momentum_buffer),
        f("grad_avg", s.grad_avg);
  }
};

/// RMSprop: gradients divided by a running RMS (centered: by the running standard deviation),
/// optionally with momentum.
class RMSprop final : public BasicOptimizer<RMSprop, RMSpropOptions, RMSpropState> {
 public:
  explicit RMSprop(std::vector<Tensor> params, const RMSpropOptions& options = {});
  explicit RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& options = {});
  static void validate(const RMSpropOptions& o);
  static RMSpropState init_state(const Tensor& param, const RMSpropOptions& o);

 protected:
  void update() override;
};

// --- Adam and AdamW -------------------------------------------------------------------------------

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("betas", o.betas), f("eps", o.eps), f("weight_decay", o.weight_decay), f("amsgrad", o.amsgrad),
        f("maximize", o.maximize);
  }
};
/// AdamW's options: Adam's, with decoupled weight decay defaulting to 1e-2.
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("betas", o.betas), f("eps", o.eps), f("weight_decay", o.weight_decay), f("amsgrad", o.amsgrad),
        f("maximize", o.maximize);
  }
};
struct AdamState {
  double step = 0;
  Tensor exp_avg, exp_avg_sq;
  Tensor max_exp_avg_sq;  // only with amsgrad
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step), f("exp_avg", s.exp_avg), f("exp_avg_sq", s.exp_avg_sq), f("max_exp_avg_sq", s.max_exp_avg_sq);
  }
};

/// Adam, with L2 weight decay added to the gradient, and the AMSGrad variant.
class Adam final : public BasicOptimizer<Adam, AdamOptions, AdamState> {
 public:
  explicit Adam(std::vector<Tensor> params, const AdamOptions& options = {});
  explicit Adam(std::vector<ParamGroup> groups, const AdamOptions& options = {});
  static void validate(const AdamOptions& o);
  static AdamState init_state(const Tensor& param, const AdamOptions& o);

 protected:
  void update() override;
};

/// AdamW: Adam with decoupled weight decay (the parameter is scaled by 1 - lr * weight_decay
/// before the Adam step).
class AdamW final : public BasicOptimizer<AdamW, AdamWOptions, AdamState> {
 public:
  explicit AdamW(std::vector<Tensor> params, const AdamWOptions& options = {});
  explicit AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options = {});
  static void validate(const AdamWOptions& o);
  static AdamState init_state(const Tensor& param, const AdamWOptions& o);

 protected:
  void update() override;
};

// --- Adamax ---------------------------------------------------------------------------------------

struct AdamaxOptions {
  double lr = 2e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool maximize = false;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("betas", o.betas), f("eps", o.eps), f("weight_decay", o.weight_decay), f("maximize", o.maximize);
  }
};
struct AdamaxState {
  double step = 0;
  Tensor exp_avg, exp_inf;
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step), f("exp_avg", s.exp_avg), f("exp_inf", s.exp_inf);
  }
};

/// Adamax: Adam with the infinity norm in place of the second moment.
class Adamax final : public BasicOptimizer<Adamax, AdamaxOptions, AdamaxState> {
 public:
  explicit Adamax(std::vector<Tensor> params, const AdamaxOptions& options = {});
  explicit Adamax(std::vector<ParamGroup> groups, const AdamaxOptions& options = {});
  static void validate(const AdamaxOptions& o);
  static AdamaxState init_state(const Tensor& param, const AdamaxOptions& o);

 protected:
  void update() override;
};

// --- NAdam ----------------------------------------------------------------------------------------

struct NAdamOptions {
  double lr = 2e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("betas", o.betas), f("eps", o.eps), f("weight_decay", o.weight_decay),
        f("momentum_decay", o.momentum_decay);
  }
};
struct NAdamState {
  double step = 0;
  double mu_product = 1;  // kept in float32 precision, as PyTorch's float32 tensor
  Tensor exp_avg, exp_avg_sq;
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step), f("mu_product", s.mu_product), f("exp_avg", s.exp_avg), f("exp_avg_sq", s.exp_avg_sq);
  }
};

/// NAdam: Adam with Nesterov momentum and the momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)).
class NAdam final : public BasicOptimizer<NAdam, NAdamOptions, NAdamState> {
 public:
  explicit NAdam(std::vector<Tensor> params, const NAdamOptions& options = {});
  explicit NAdam(std::vector<ParamGroup> groups, const NAdamOptions& options = {});
  static void validate(const NAdamOptions& o);
  static NAdamState init_state(const Tensor& param, const NAdamOptions& o);

 protected:
  void update() override;
};

}  // namespace descent::optim
