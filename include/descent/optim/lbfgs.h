#pragma once
// L-BFGS as torch.optim.LBFGS (1.13): step(closure) runs up to max_iter quasi-Newton iterations,
// each calling the closure to re-evaluate the loss and the gradient, with a fixed step (lr) or a
// strong-Wolfe line search. All parameters form one group and are treated as one flat vector.
//
//   descent::optim::LBFGS opt({x}, {.lr = 1, .line_search_fn = "strong_wolfe"});
//   opt.step([&] { opt.zero_grad(); Tensor loss = f(x); loss.backward(); return loss; });

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "descent/optim/optimizer.h"

namespace descent::optim {

struct LBFGSOptions {
  double lr = 1;
  std::int64_t max_iter = 20;
  /// Most function evaluations per step(); unset means max_iter * 5 / 4.
  std::optional<std::int64_t> max_eval = std::nullopt;
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  std::int64_t history_size = 100;
  /// "" (a fixed step of lr) or "strong_wolfe".
  std::string line_search_fn = "";
  template <typename Self, typename F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr), f("max_iter", o.max_iter), f("max_eval", o.max_eval), f("tolerance_grad", o.tolerance_grad),
        f("tolerance_change", o.tolerance_change), f("history_size", o.history_size),
        f("line_search_fn", o.line_search_fn);
  }
};

/// The state L-BFGS carries between step() calls (PyTorch keeps it under the first parameter:
/// "state.0.<name>" in the state dict). Vectors are flat over all parameters, in their dtype.
struct LBFGSState {
  double func_evals = 0;
  double n_iter = 0;
  bool has_history = false;  // whether the fields below are set (after the first iteration)
  Tensor d;                  // last search direction [N]
  double t = 0;              // last step length
  std::vector<Tensor> old_dirs, old_stps;  // the curvature pairs y and s, oldest first
  std::vector<double> ro;                  // 1 / (y . s)
  double H_diag = 1;
  Tensor prev_flat_grad;  // [N]
  double prev_loss = 0;
};

class LBFGS final : public Optimizer {
 public:
  explicit LBFGS(std::vector<Tensor> params, const LBFGSOptions& options = {});
  static void validate(const LBFGSOptions& o);

  /// Up to max_iter iterations; returns the loss of the closure's first evaluation.
  Tensor step(const Closure& closure) override;
  using Optimizer::step;

  const LBFGSOptions& options() const { return options_; }
  const LBFGSState& state() const { return state_; }

 protected:
  void update() override;  // throws: L-BFGS needs a closure

  std::size_t options_size() const override;
  OptionValue get_option(std::size_t group, std::string_view name) const override;
  void put_option(std::size_t group, std::string_view name, const OptionValue& value) override;
  bool knows_option(std::string_view name) const override;
  void save(std::map<std::string, Tensor>& out) const override;
  std::function<void()> prepare_load(StateDictReader& reader) override;

 private:
  template <typename T>
  Tensor step_impl(const Closure& closure);

  LBFGSOptions options_;
  LBFGSState state_;
};

}  // namespace descent::optim
