#pragma once
// The optimizer base, as torch.optim.Optimizer: parameters in groups, each group with its own
// options (a group's options default to the optimizer's), per-parameter state, step(), zero_grad()
// and a state dict that saves and restores an optimizer exactly.
//
//   descent::optim::SGD opt({w, b}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
//   for (...) { opt.zero_grad(); loss(w, b).backward(); opt.step(); }
//
// Groups override some options by name, the rest come from the optimizer's options:
//
//   descent::optim::Adam opt({{.params = {w1, w2}}, {.params = {b1, b2}, .options = {{"weight_decay", 0.0}}}},
//                            {.lr = 1e-3, .weight_decay = 1e-4});
//
// State is kept in vectors indexed by (group, position in the group), never keyed by a tensor's
// address. The state dict is a flat std::map<std::string, Tensor> with PyTorch's names:
// "param_groups.<g>.<option>" (0-d float64; betas a [2] float64; strings int64 byte tensors),
// "param_groups.<g>.params" (int64: the flat indices of the group's parameters) and
// "state.<k>.<name>" where k counts parameters across groups in order (buffers with the
// parameter's shape and dtype, counters such as "step" as 0-d float64).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::optim {

/// The value of one option, for group overrides and for reading or setting options by name
/// (schedules set "lr" and "momentum" or "betas" this way).
using OptionValue = std::variant<double, bool, std::int64_t, std::pair<double, double>, std::string>;

/// Parameters that share options. `options` overrides the optimizer's options by name:
/// {{"lr", 0.01}, {"nesterov", true}, {"betas", std::pair{0.9, 0.99}}}. Unknown names throw.
struct ParamGroup {
  std::vector<Tensor> params;
  std::map<std::string, OptionValue> options = {};
};

/// A closure for step(closure): re-evaluates the loss (calling zero_grad and backward itself) and
/// returns it. Runs with grad mode on.
using Closure = std::function<Tensor()>;

class StateDictReader;  // private helper (src/optim/state_dict.h)

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Schedules refer to their optimizer: an optimizer is neither copied nor moved.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// "SGD", "Adam", ...
  const std::string& name() const { return name_; }

  /// One update of every parameter that has a gradient (parameters whose grad is undefined are
  /// skipped). Runs with grad mode off and writes into the parameters' storage.
  void step();
  /// Evaluates the closure with grad mode on, then steps; returns the closure's loss. LBFGS
  /// overrides this: it calls the closure several times.
  virtual Tensor step(const Closure& closure);

  /// Clears every parameter's gradient: set to undefined (PyTorch 2.x's set_to_none), or with
  /// set_to_none = false, zeroed in place.
  void zero_grad(bool set_to_none = true);

  std::size_t num_param_groups() const { return groups_.size(); }
  const std::vector<Tensor>& params(std::size_t group) const;
  /// Every parameter, groups in order (the order of the state dict's "state.<k>").
  std::vector<Tensor> all_params() const;

  /// The learning rate of a group; set_lr changes it (what schedules do).
  double lr(std::size_t group = 0) const;
  void set_lr(std::size_t group, double lr);
  /// Sets the learning rate of every group.
  void set_lr(double lr);

  /// Whether this optimizer has an option of this name ("momentum", "betas", ...).
  bool has_option(std::string_view name) const;
  /// A group's option by name; throws ValueError for an unknown name.
  OptionValue option(std::size_t group, std::string_view name) const;
  /// Sets a group's option by name (validated like the constructor's options).
  void set_option(std::size_t group, std::string_view name, const OptionValue& value);

  /// A snapshot of the options and the state (tensors are copies: later steps do not change it).
  std::map<std::string, Tensor> state_dict() const;
  /// Restores a state dict of an optimizer of the same kind over parameters of the same shapes.
  /// Throws (changing nothing) on a missing or unexpected key, a tensor of the wrong shape, a
  /// group of another size, or invalid options.
  void load_state_dict(const std::map<std::string, Tensor>& state);

  /// The learning rate a schedule started from ("initial_lr" in PyTorch's param groups). Set by the
  /// first schedule attached to the group; not part of the state dict.
  std::optional<double> initial_lr(std::size_t group) const;
  void set_initial_lr(std::size_t group, double lr);

 protected:
  Optimizer(std::string name, std::vector<ParamGroup> groups);

  /// The update, under NoGradGuard.
  virtual void update() = 0;

  // --- options, implemented by BasicOptimizer through each Options struct's field list ---------
  virtual std::size_t options_size() const = 0;
  virtual OptionValue get_option(std::size_t group, std::string_view name) const = 0;  // throws if unknown
  virtual void put_option(std::size_t group, std::string_view name, const OptionValue& value) = 0;
  virtual bool knows_option(std::string_view name) const = 0;

  // --- state dict ---------------------------------------------------------------------------------
  virtual void save(std::map<std::string, Tensor>& out) const = 0;
  /// Reads everything it needs from the reader (which records missing keys and throws on bad
  /// shapes) without changing the optimizer, and returns the function that commits it.
  virtual std::function<void()> prepare_load(StateDictReader& reader) = 0;

  /// The overrides of each group, as given to the constructor (applied by BasicOptimizer).
  const std::map<std::string, OptionValue>& overrides(std::size_t group) const { return overrides_[group]; }
  /// Flat index (across groups) of parameter `index` of `group`.
  std::size_t flat_index(std::size_t group, std::size_t index) const;

  std::string name_;
  std::vector<std::vector<Tensor>> groups_;

 private:
  std::vector<std::map<std::string, OptionValue>> overrides_;
  std::vector<std::optional<double>> initial_lrs_;
};

/// The shared machinery of the optimizers: Derived provides
///   static void validate(const Options&)            throws ValueError for invalid options
///   static State init_state(const Tensor& param, const Options&)   fresh per-parameter state
/// Options and State list their fields with a static `fields(self, f)` calling f(name, member).
/// Option members are double, bool, std::int64_t, std::optional<std::int64_t>,
/// std::pair<double, double> or std::string; State members are double (counters) or Tensor
/// (buffers; an undefined buffer is not in use for these options).
template <typename Derived, typename Options, typename State>
class BasicOptimizer : public Optimizer {
 public:
  using options_type = Options;
  using state_type = State;

  /// A group's options (resolved: the optimizer's options with the group's overrides applied).
  const Options& options(std::size_t group = 0) const;
  /// Replaces a group's options (validated).
  void set_options(std::size_t group, const Options& options);
  /// The state of a parameter; empty before its first update.
  const std::optional<State>& state(std::size_t group, std::size_t index) const;

 protected:
  BasicOptimizer(std::string name, std::vector<ParamGroup> groups, const Options& defaults);

  std::size_t options_size() const override;
  OptionValue get_option(std::size_t group, std::string_view name) const override;
  void put_option(std::size_t group, std::string_view name, const OptionValue& value) override;
  bool knows_option(std::string_view name) const override;
  void save(std::map<std::string, Tensor>& out) const override;
  std::function<void()> prepare_load(StateDictReader& reader) override;

  /// The state of parameter (group, index), created by Derived::init_state on first use; `fresh`
  /// (if given) is set to whether it was just created.
  State& state_for(std::size_t group, std::size_t index, bool* fresh = nullptr);
  /// Creates every parameter's state now (Adagrad does, as PyTorch's does in its constructor).
  void init_all_state();

  std::vector<Options> options_;
  std::vector<std::vector<std::optional<State>>> state_;
};

}  // namespace descent::optim
