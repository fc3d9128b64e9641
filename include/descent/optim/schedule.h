#pragma once
// Learning-rate schedules, as torch.optim.lr_scheduler (1.13): the same recursive ("chainable")
// formulas, so that the learning rates match PyTorch's step by step.
//
//   descent::optim::SGD opt(params, {.lr = 0.1, .momentum = 0.9});
//   descent::optim::StepLR sched(opt, {.step_size = 30, .gamma = 0.1});
//   for (int epoch = 0; epoch < 100; ++epoch) { train(opt); sched.step(); }
//
// A schedule is attached to an optimizer at construction and, as in PyTorch, sets the learning
// rates of its groups right away (the "initial step"). It keeps a pointer to the optimizer, which
// must outlive it. Each schedule has a state dict (std::map<std::string, Tensor>, numbers as 0-d
// float64, per-group lists as 1-D float64, strings as int64 byte tensors) that load_state_dict
// restores exactly; the optimizer's learning rates are restored by the optimizer's own state dict.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "descent/core/tensor.h"
#include "descent/optim/optimizer.h"
#include "descent/optim/optimizers.h"

namespace descent::optim {

class ScheduleFields;  // private visitor (src/optim/schedule_fields.h)

/// What all schedules share: a name, the last learning rates, a state dict.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  const std::string& name() const { return name_; }
  Optimizer& optimizer() const { return *optimizer_; }
  /// The learning rate of each group after the last step (or the initial step).
  const std::vector<double>& get_last_lr() const { return last_lr_; }

  std::map<std::string, Tensor> state_dict() const;
  /// Restores a state dict of a schedule of the same kind; throws (changing nothing) on a missing or
  /// unexpected key or a mis-shaped value.
  void load_state_dict(const std::map<std::string, Tensor>& state);

 protected:
  Scheduler(std::string name, Optimizer& optimizer);
  /// Lists every saved member (in a fixed order) to the visitor.
  virtual void fields(ScheduleFields& f) = 0;
  /// Reads the optimizer's current learning rates into last_lr_.
  void record_last_lr();

  std::string name_;
  Optimizer* optimizer_;
  std::vector<double> last_lr_;

  friend class SequentialLR;
};

/// The base of the epoch-driven schedules (PyTorch's _LRScheduler).
class LRScheduler : public Scheduler {
 public:
  /// Advances one epoch (or one batch, for OneCycleLR) and sets the optimizer's learning rates.
  virtual void step();

  std::int64_t last_epoch() const { return last_epoch_; }
  /// The learning rates the schedule started from (the groups' "initial_lr").
  const std::vector<double>& base_lrs() const { return base_lrs_; }

 protected:
  /// Records each group's initial_lr (the first schedule of an optimizer sets it to the current lr).
  LRScheduler(std::string name, Optimizer& optimizer);
  /// The initial step: derived constructors call it last, once their members are set.
  void initial_step();
  /// The recursive form: the next learning rates from the current ones.
  virtual std::vector<double> get_lr() = 0;
  /// The closed form at last_epoch_ (what PyTorch's step(epoch) uses); defaults to get_lr().
  virtual std::vector<double> closed_form_lr() { return get_lr(); }
  /// PyTorch's deprecated step(epoch), which SequentialLR uses at its milestones.
  void step_to(std::int64_t epoch);
  void fields(ScheduleFields& f) override;

  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = -1;
  std::int64_t step_count_ = 0;

  friend class SequentialLR;

 private:
  void apply(const std::vector<double>& lrs);
};

/// lr * gamma every step_size epochs.
struct StepLROptions {
  std::int64_t step_size = 0;  // required, > 0
  double gamma = 0.1;
};
class StepLR final : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, const StepLROptions& options);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;
  void fields(ScheduleFields& f) override;

 private:
  StepLROptions options_;
};

/// lr * gamma at each milestone (a milestone listed twice multiplies by gamma^2).
struct MultiStepLROptions {
  std::vector<std::int64_t> milestones;
  double gamma = 0.1;
};
class MultiStepLR final : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, const MultiStepLROptions& options);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;
  void fields(ScheduleFields& f) override;

 private:
  MultiStepLROptions options_;
};

/// lr * gamma every epoch.
struct ExponentialLROptions {
  double gamma = kRequired;  // required
};
class ExponentialLR final : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;
  void fields(ScheduleFields& f) override;

 private:
  ExponentialLROptions options_;
};

/// Cosine annealing from the base lr to eta_min over T_max epochs (and back up, periodically),
/// in PyTorch's recursive form.
struct CosineAnnealingLROptions {
  std::int64_t T_max = 0;  // required, > 0
  double eta_min = 0;
};
class CosineAnnealingLR final : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options);

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;
  void fields(ScheduleFields& f) override;

 private:
  CosineAnnealingLROptions options_;
};

/// Linear warm-up: the factor goes from start_factor to end_factor over total_iters epochs.
struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  std::int64_t total_iters = 5;
};
class LinearLR final : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, const LinearLROptions& options = {});

 protected:
  std::vector<double> get_lr() override;
  std::vector<double> closed_form_lr() override;
  void fields(ScheduleFields& f) override;

 private:
  LinearLROptions options_;
};

/// The 1cycle policy, stepped once per batch: lr rises from max_lr / div_factor to max_lr over
/// pct_start of total_steps and anneals to initial_lr / final_div_factor (three_phase: back to
/// initial_lr first, then down). With cycle_momentum, the optimizer's "momentum" (or beta1 of its
/// "betas") moves inversely between max_momentum and base_momentum.
struct OneCycleLROptions {
  double max_lr = kRequired;           // required, unless max_lrs is given
  std::vector<double> max_lrs = {};    // per group (overrides max_lr)
  std::int64_t total_steps = 0;        // or epochs * steps_per_epoch
  std::int64_t epochs = 0;
  std::int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  std::string anneal_strategy = "cos";  // "cos" or "linear"
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.;
  double final_div_factor = 1e4;
  bool three_phase = false;
};
class OneCycleLR final : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options);

  std::int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> get_lr() override;
  void fields(ScheduleFields& f) override;

 private:
  struct Phase {
    double end_step;
    int start_lr, end_lr, start_momentum, end_momentum;  // indices into the per-group values below
  };
  std::vector<Phase> phases() const;
  double anneal(double start, double end, double pct) const;

  std::int64_t total_steps_ = 0;
  double pct_start_ = 0.3;
  std::string anneal_strategy_;
  bool three_phase_ = false;
  bool cycle_momentum_ = true;
  bool use_beta1_ = false;
  // per group: initial_lr, max_lr, min_lr, max_momentum, base_momentum (the values PyTorch keeps
  // in the optimizer's param groups)
  std::vector<double> initial_lrs_, max_lrs_, min_lrs_, max_momentums_, base_momentums_;
};

/// Chains schedules: schedulers[i] runs from milestones[i - 1] on. At a milestone the next
/// schedule restarts from its closed form at epoch 0 (as PyTorch's SequentialLR does).
class SequentialLR final : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<std::int64_t> milestones);
  void step() override;

 protected:
  std::vector<double> get_lr() override { return last_lr_; }
  void fields(ScheduleFields& f) override;

 private:
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<std::int64_t> milestones_;
};

/// Reduces the learning rate by `factor` once a metric has stopped improving for `patience` steps.
struct ReduceLROnPlateauOptions {
  std::string mode = "min";  // "min" or "max"
  double factor = 0.1;
  std::int64_t patience = 10;
  double threshold = 1e-4;
  std::string threshold_mode = "rel";  // "rel" or "abs"
  std::int64_t cooldown = 0;
  double min_lr = 0;
  std::vector<double> min_lrs = {};  // per group (overrides min_lr)
  double eps = 1e-8;
};
class ReduceLROnPlateau final : public Scheduler {
 public:
  ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& options = {});
  void step(double metric);
  /// A one-element tensor (a loss) as the metric.
  void step(const Tensor& metric) { step(metric.item()); }

  double best() const { return best_; }
  std::int64_t num_bad_epochs() const { return num_bad_epochs_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }

 protected:
  void fields(ScheduleFields& f) override;

 private:
  bool is_better(double a, double best) const;
  static void validate(const ReduceLROnPlateauOptions& o, std::size_t groups);

  ReduceLROnPlateauOptions options_;
  std::int64_t cooldown_counter_ = 0;
  double best_ = 0;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t last_epoch_ = 0;
};

}  // namespace descent::optim
