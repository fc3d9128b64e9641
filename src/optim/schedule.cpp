// Learning-rate schedules as torch.optim.lr_scheduler (1.13). The formulas are PyTorch's, written
// in the same order of operations, so that the learning rates agree to the last bit or nearly.

#include "descent/optim/schedule.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <variant>

#include "internal/check.h"
#include "optim/schedule_fields.h"
#include "optim/state_dict.h"

namespace descent::optim {

namespace {

constexpr double kPi = std::numbers::pi;

std::vector<double> current_lrs(const Optimizer& optimizer) {
  std::vector<double> out;
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) out.push_back(optimizer.lr(g));
  return out;
}

// --- the three visitors ---------------------------------------------------------------------------

class SaveFields final : public ScheduleFields {
 public:
  explicit SaveFields(std::map<std::string, Tensor>& out) : out_(out) {}
  void field(const std::string& name, double& v) override { out_[prefix + name] = encode_scalar(v); }
  void field(const std::string& name, std::int64_t& v) override {
    out_[prefix + name] = encode_scalar(static_cast<double>(v));
  }
  void field(const std::string& name, bool& v) override { out_[prefix + name] = encode_scalar(v ? 1.0 : 0.0); }
  void field(const std::string& name, std::string& v) override { out_[prefix + name] = encode_string(v); }
  void field(const std::string& name, std::vector<double>& v, bool) override {
    out_[prefix + name] = encode_vector(v);
  }
  void field(const std::string& name, std::vector<std::int64_t>& v) override {
    out_[prefix + name] = encode_vector(std::vector<double>(v.begin(), v.end()));
  }

 private:
  std::map<std::string, Tensor>& out_;
};

using FieldValue = std::variant<double, std::int64_t, bool, std::string, std::vector<double>, std::vector<std::int64_t>>;

class ReadFields final : public ScheduleFields {
 public:
  explicit ReadFields(StateDictReader& reader) : reader_(reader) {}
  void field(const std::string& name, double& v) override { values.emplace_back(reader_.scalar(prefix + name, v)); }
  void field(const std::string& name, std::int64_t& v) override {
    values.emplace_back(static_cast<std::int64_t>(std::llround(reader_.scalar(prefix + name, static_cast<double>(v)))));
  }
  void field(const std::string& name, bool& v) override {
    values.emplace_back(reader_.scalar(prefix + name, v ? 1.0 : 0.0) != 0.0);
  }
  void field(const std::string& name, std::string& v) override { values.emplace_back(reader_.string(prefix + name, v)); }
  void field(const std::string& name, std::vector<double>& v, bool fixed_size) override {
    const std::optional<std::int64_t> size =
        fixed_size ? std::optional<std::int64_t>(static_cast<std::int64_t>(v.size())) : std::nullopt;
    values.emplace_back(reader_.vector(prefix + name, size, v));
  }
  void field(const std::string& name, std::vector<std::int64_t>& v) override {
    const std::vector<double> d = reader_.vector(prefix + name, std::nullopt, std::vector<double>(v.begin(), v.end()));
    std::vector<std::int64_t> out;
    for (double x : d) out.push_back(static_cast<std::int64_t>(std::llround(x)));
    values.emplace_back(std::move(out));
  }

  std::vector<FieldValue> values;

 private:
  StateDictReader& reader_;
};

class AssignFields final : public ScheduleFields {
 public:
  explicit AssignFields(std::vector<FieldValue>& values) : values_(values) {}
  void field(const std::string&, double& v) override { v = std::get<double>(values_[next_++]); }
  void field(const std::string&, std::int64_t& v) override { v = std::get<std::int64_t>(values_[next_++]); }
  void field(const std::string&, bool& v) override { v = std::get<bool>(values_[next_++]); }
  void field(const std::string&, std::string& v) override { v = std::move(std::get<std::string>(values_[next_++])); }
  void field(const std::string&, std::vector<double>& v, bool) override {
    v = std::move(std::get<std::vector<double>>(values_[next_++]));
  }
  void field(const std::string&, std::vector<std::int64_t>& v) override {
    v = std::move(std::get<std::vector<std::int64_t>>(values_[next_++]));
  }

 private:
  std::vector<FieldValue>& values_;
  std::size_t next_ = 0;
};

}  // namespace

// --- Scheduler ------------------------------------------------------------------------------------

Scheduler::Scheduler(std::string name, Optimizer& optimizer) : name_(std::move(name)), optimizer_(&optimizer) {}

void Scheduler::record_last_lr() { last_lr_ = current_lrs(*optimizer_); }

std::map<std::string, Tensor> Scheduler::state_dict() const {
  std::map<std::string, Tensor> out;
  SaveFields save(out);
  const_cast<Scheduler*>(this)->fields(save);  // the save visitor only reads
  return out;
}

void Scheduler::load_state_dict(const std::map<std::string, Tensor>& state) {
  StateDictReader reader(state, name_ + ".load_state_dict");
  ReadFields read(reader);
  fields(read);
  reader.finish();
  AssignFields assign(read.values);
  fields(assign);
}

// --- LRScheduler ----------------------------------------------------------------------------------

LRScheduler::LRScheduler(std::string name, Optimizer& optimizer) : Scheduler(std::move(name), optimizer) {
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) {
    if (!optimizer.initial_lr(g)) optimizer.set_initial_lr(g, optimizer.lr(g));  // group.setdefault('initial_lr', lr)
    base_lrs_.push_back(*optimizer.initial_lr(g));
  }
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  const std::int64_t saved_epoch = last_epoch_, saved_count = step_count_;
  step_count_ += 1;
  last_epoch_ += 1;
  std::vector<double> lrs;
  try {
    lrs = get_lr();
  } catch (...) {
    last_epoch_ = saved_epoch;
    step_count_ = saved_count;
    throw;
  }
  apply(lrs);
}

void LRScheduler::step_to(std::int64_t epoch) {
  step_count_ += 1;
  last_epoch_ = epoch;
  apply(closed_form_lr());
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  for (std::size_t g = 0; g < lrs.size(); ++g) optimizer_->set_lr(g, lrs[g]);
  record_last_lr();
}

void LRScheduler::fields(ScheduleFields& f) {
  f.field("base_lrs", base_lrs_, true);
  f.field("last_epoch", last_epoch_);
  f.field("step_count", step_count_);
  f.field("last_lr", last_lr_, true);
}

// --- StepLR ---------------------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, const StepLROptions& options)
    : LRScheduler("StepLR", optimizer), options_(options) {
  DESCENT_CHECK_VALUE(options_.step_size > 0, "StepLR: step_size must be positive, got {}", options_.step_size);
  initial_step();
}

std::vector<double> StepLR::get_lr() {
  std::vector<double> lrs = current_lrs(*optimizer_);
  if (last_epoch_ == 0 || last_epoch_ % options_.step_size != 0) return lrs;
  for (double& lr : lrs) lr = lr * options_.gamma;
  return lrs;
}

std::vector<double> StepLR::closed_form_lr() {
  std::vector<double> lrs;
  for (double base : base_lrs_) {
    lrs.push_back(base * std::pow(options_.gamma, static_cast<double>(last_epoch_ / options_.step_size)));
  }
  return lrs;
}

void StepLR::fields(ScheduleFields& f) {
  LRScheduler::fields(f);
  f.field("step_size", options_.step_size);
  f.field("gamma", options_.gamma);
}

// --- MultiStepLR ----------------------------------------------------------------------------------

MultiStepLR::MultiStepLR(Optimizer& optimizer, const MultiStepLROptions& options)
    : LRScheduler("MultiStepLR", optimizer), options_(options) {
  std::sort(options_.milestones.begin(), options_.milestones.end());
  initial_step();
}

std::vector<double> MultiStepLR::get_lr() {
  std::vector<double> lrs = current_lrs(*optimizer_);
  const auto count = std::count(options_.milestones.begin(), options_.milestones.end(), last_epoch_);
  if (count == 0) return lrs;
  for (double& lr : lrs) lr = lr * std::pow(options_.gamma, static_cast<double>(count));
  return lrs;
}

std::vector<double> MultiStepLR::closed_form_lr() {
  const auto passed = std::upper_bound(options_.milestones.begin(), options_.milestones.end(), last_epoch_) -
                      options_.milestones.begin();
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * std::pow(options_.gamma, static_cast<double>(passed)));
  return lrs;
}

void MultiStepLR::fields(ScheduleFields& f) {
  LRScheduler::fields(f);
  f.field("milestones", options_.milestones);
  f.field("gamma", options_.gamma);
}

// --- ExponentialLR --------------------------------------------------------------------------------

ExponentialLR::ExponentialLR(Optimizer& optimizer, const ExponentialLROptions& options)
    : LRScheduler("ExponentialLR", optimizer), options_(options) {
  DESCENT_CHECK_VALUE(!std::isnan(options_.gamma), "ExponentialLR: gamma is required (ExponentialLR(opt, {{.gamma = 0.9}}))");
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs = current_lrs(*optimizer_);
  if (last_epoch_ == 0) return lrs;
  for (double& lr : lrs) lr = lr * options_.gamma;
  return lrs;
}

std::vector<double> ExponentialLR::closed_form_lr() {
  std::vector<double> lrs;
  for (double base : base_lrs_) lrs.push_back(base * std::pow(options_.gamma, static_cast<double>(last_epoch_)));
  return lrs;
}

void ExponentialLR::fields(ScheduleFields& f) {
  LRScheduler::fields(f);
  f.field("gamma", options_.gamma);
}

// --- CosineAnnealingLR ----------------------------------------------------------------------------

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, const CosineAnnealingLROptions& options)
    : LRScheduler("CosineAnnealingLR", optimizer), options_(options) {
  DESCENT_CHECK_VALUE(options_.T_max > 0, "CosineAnnealingLR: T_max must be positive, got {}", options_.T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() {
  const double eta_min = options_.eta_min;
  const auto T_max = static_cast<double>(options_.T_max);
  const auto epoch = static_cast<double>(last_epoch_);
  std::vector<double> lrs = current_lrs(*optimizer_);
  if (last_epoch_ == 0) return lrs;
  if (step_count_ == 1 && last_epoch_ > 0) {
    for (std::size_t g = 0; g < lrs.size(); ++g) {
      lrs[g] = eta_min + (base_lrs_[g] - eta_min) * (1 + std::cos(epoch * kPi / T_max)) / 2;
    }
  } else if ((last_epoch_ - 1 - options_.T_max) % (2 * options_.T_max) == 0) {
    for (std::size_t g = 0; g < lrs.size(); ++g) {
      lrs[g] = lrs[g] + (base_lrs_[g] - eta_min) * (1 - std::cos(kPi / T_max)) / 2;
    }
  } else {
    for (double& lr : lrs) {
      lr = (1 + std::cos(kPi * epoch / T_max)) / (1 + std::cos(kPi * (epoch - 1) / T_max)) * (lr - eta_min) + eta_min;
    }
  }
  return lrs;
}

std::vector<double> CosineAnnealingLR::closed_form_lr() {
  const double eta_min = options_.eta_min;
  std::vector<double> lrs;
  for (double base : base_lrs_) {
    lrs.push_back(eta_min + (base - eta_min) *
                                (1 + std::cos(kPi * static_cast<double>(last_epoch_) / static_cast<double>(options_.T_max))) /
                                2);
  }
  return lrs;
}

void CosineAnnealingLR::fields(ScheduleFields& f) {
  LRScheduler::fields(f);
  f.field("T_max", options_.T_max);
  f.field("eta_min", options_.eta_min);
}

// --- LinearLR -------------------------------------------------------------------------------------

LinearLR::LinearLR(Optimizer& optimizer, const LinearLROptions& options)
    : LRScheduler("LinearLR", optimizer), options_(options) {
  DESCENT_CHECK_VALUE(options_.start_factor > 0 && options_.start_factor <= 1,
                      "LinearLR: start_factor must be in (0, 1], got {}", options_.start_factor);
  DESCENT_CHECK_VALUE(options_.end_factor >= 0 && options_.end_factor <= 1,
                      "LinearLR: end_factor must be in [0, 1], got {}", options_.end_factor);
  DESCENT_CHECK_VALUE(options_.total_iters > 0, "LinearLR: total_iters must be positive, got {}", options_.total_iters);
  initial_step();
}

std::vector<double> LinearLR::get_lr() {
  const double start = options_.start_factor, end = options_.end_factor;
  const auto total = static_cast<double>(options_.total_iters);
  std::vector<double> lrs = current_lrs(*optimizer_);
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr = lr * start;
    return lrs;
  }
  if (last_epoch_ > options_.total_iters) return lrs;
  for (double& lr : lrs) {
    lr = lr * (1. + (end - start) / (total * start + static_cast<double>(last_epoch_ - 1) * (end - start)));
  }
  return lrs;
}

std::vector<double> LinearLR::closed_form_lr() {
  const double start = options_.start_factor, end = options_.end_factor;
  const auto done = static_cast<double>(std::min(options_.total_iters, last_epoch_));
  std::vector<double> lrs;
  for (double base : base_lrs_) {
    lrs.push_back(base * (start + (end - start) * done / static_cast<double>(options_.total_iters)));
  }
  return lrs;
}

void LinearLR::fields(ScheduleFields& f) {
  LRScheduler::fields(f);
  f.field("start_factor", options_.start_factor);
  f.field("end_factor", options_.end_factor);
  f.field("total_iters", options_.total_iters);
}

// --- OneCycleLR -----------------------------------------------------------------------------------

namespace {
enum : int { kInitialLr, kMaxLr, kMinLr, kMaxMomentum, kBaseMomentum };
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& o) : LRScheduler("OneCycleLR", optimizer) {
  const std::size_t groups = optimizer.num_param_groups();
  if (o.total_steps != 0) {
    DESCENT_CHECK_VALUE(o.total_steps > 0, "OneCycleLR: expected a positive integer total_steps, got {}", o.total_steps);
    total_steps_ = o.total_steps;
  } else {
    DESCENT_CHECK_VALUE(o.epochs != 0 || o.steps_per_epoch != 0,
                        "OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)");
    DESCENT_CHECK_VALUE(o.epochs > 0, "OneCycleLR: expected a positive integer epochs, got {}", o.epochs);
    DESCENT_CHECK_VALUE(o.steps_per_epoch > 0, "OneCycleLR: expected a positive integer steps_per_epoch, got {}",
                        o.steps_per_epoch);
    total_steps_ = o.epochs * o.steps_per_epoch;
  }
  DESCENT_CHECK_VALUE(o.pct_start >= 0 && o.pct_start <= 1, "OneCycleLR: expected pct_start in [0, 1], got {}",
                      o.pct_start);
  DESCENT_CHECK_VALUE(o.anneal_strategy == "cos" || o.anneal_strategy == "linear",
                      "OneCycleLR: anneal_strategy must be \"cos\" or \"linear\", got \"{}\"", o.anneal_strategy);
  pct_start_ = o.pct_start;
  anneal_strategy_ = o.anneal_strategy;
  three_phase_ = o.three_phase;

  if (!o.max_lrs.empty()) {
    DESCENT_CHECK_VALUE(o.max_lrs.size() == groups, "OneCycleLR: expected {} values for max_lr, got {}", groups,
                        o.max_lrs.size());
    max_lrs_ = o.max_lrs;
  } else {
    DESCENT_CHECK_VALUE(!std::isnan(o.max_lr), "OneCycleLR: max_lr is required (OneCycleLR(opt, {{.max_lr = 0.1, ...}}))");
    max_lrs_.assign(groups, o.max_lr);
  }
  for (std::size_t g = 0; g < groups; ++g) {
    initial_lrs_.push_back(max_lrs_[g] / o.div_factor);
    min_lrs_.push_back(initial_lrs_[g] / o.final_div_factor);
    optimizer.set_initial_lr(g, initial_lrs_[g]);
  }

  cycle_momentum_ = o.cycle_momentum;
  if (cycle_momentum_) {
    DESCENT_CHECK_VALUE(optimizer.has_option("momentum") || optimizer.has_option("betas"),
                        "OneCycleLR: optimizer {} has neither momentum nor betas; it must support momentum with the "
                        "cycle_momentum option enabled",
                        optimizer.name());
    use_beta1_ = optimizer.has_option("betas");
    max_momentums_.assign(groups, o.max_momentum);
    base_momentums_.assign(groups, o.base_momentum);
    for (std::size_t g = 0; g < groups; ++g) {
      if (use_beta1_) {
        auto betas = std::get<std::pair<double, double>>(optimizer.option(g, "betas"));
        optimizer.set_option(g, "betas", std::pair{o.max_momentum, betas.second});
      } else {
        optimizer.set_option(g, "momentum", o.max_momentum);
      }
    }
  }
  base_lrs_ = initial_lrs_;
  initial_step();
}

std::vector<OneCycleLR::Phase> OneCycleLR::phases() const {
  const auto total = static_cast<double>(total_steps_);
  if (three_phase_) {
    return {{pct_start_ * total - 1, kInitialLr, kMaxLr, kMaxMomentum, kBaseMomentum},
            {2 * pct_start_ * total - 2, kMaxLr, kInitialLr, kBaseMomentum, kMaxMomentum},
            {total - 1, kInitialLr, kMinLr, kMaxMomentum, kMaxMomentum}};
  }
  return {{pct_start_ * total - 1, kInitialLr, kMaxLr, kMaxMomentum, kBaseMomentum},
          {total - 1, kMaxLr, kMinLr, kBaseMomentum, kMaxMomentum}};
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (anneal_strategy_ == "cos") {
    const double cos_out = std::cos(kPi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  return (end - start) * pct + start;
}

std::vector<double> OneCycleLR::get_lr() {
  const std::int64_t step_num = last_epoch_;
  DESCENT_CHECK_VALUE(step_num <= total_steps_,
                      "OneCycleLR: tried to step {} times; the specified number of total steps is {}", step_num + 1,
                      total_steps_);
  const std::vector<Phase> ph = phases();
  std::vector<double> lrs;
  for (std::size_t g = 0; g < optimizer_->num_param_groups(); ++g) {
    const double values[] = {initial_lrs_[g], max_lrs_[g], min_lrs_[g],
                             cycle_momentum_ ? max_momentums_[g] : 0.0, cycle_momentum_ ? base_momentums_[g] : 0.0};
    double start_step = 0, computed_lr = 0, computed_momentum = 0;
    for (std::size_t i = 0; i < ph.size(); ++i) {
      const double end_step = ph[i].end_step;
      if (static_cast<double>(step_num) <= end_step || i == ph.size() - 1) {
        const double pct = (static_cast<double>(step_num) - start_step) / (end_step - start_step);
        computed_lr = anneal(values[ph[i].start_lr], values[ph[i].end_lr], pct);
        if (cycle_momentum_) computed_momentum = anneal(values[ph[i].start_momentum], values[ph[i].end_momentum], pct);
        break;
      }
      start_step = ph[i].end_step;
    }
    lrs.push_back(computed_lr);
    if (cycle_momentum_) {
      if (use_beta1_) {
        auto betas = std::get<std::pair<double, double>>(optimizer_->option(g, "betas"));
        optimizer_->set_option(g, "betas", std::pair{computed_momentum, betas.second});
      } else {
        optimizer_->set_option(g, "momentum", computed_momentum);
      }
    }
  }
  return lrs;
}

void OneCycleLR::fields(ScheduleFields& f) {
  LRScheduler::fields(f);
  f.field("total_steps", total_steps_);
  f.field("pct_start", pct_start_);
  f.field("anneal_strategy", anneal_strategy_);
  f.field("three_phase", three_phase_);
  f.field("cycle_momentum", cycle_momentum_);
  f.field("use_beta1", use_beta1_);
  f.field("initial_lrs", initial_lrs_, true);
  f.field("max_lrs", max_lrs_, true);
  f.field("min_lrs", min_lrs_, true);
  f.field("max_momentums", max_momentums_, true);
  f.field("base_momentums", base_momentums_, true);
}

// --- SequentialLR ---------------------------------------------------------------------------------

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : LRScheduler("SequentialLR", optimizer), schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {
  DESCENT_CHECK_VALUE(!schedulers_.empty(), "SequentialLR: expected at least one schedule");
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    DESCENT_CHECK_VALUE(schedulers_[i] != nullptr, "SequentialLR: schedule {} is null", i);
    DESCENT_CHECK_VALUE(&schedulers_[i]->optimizer() == &optimizer,
                        "SequentialLR: expects all schedules to belong to the same optimizer, but schedule {} ({}) "
                        "belongs to another one",
                        i, schedulers_[i]->name());
  }
  DESCENT_CHECK_VALUE(milestones_.size() + 1 == schedulers_.size(),
                      "SequentialLR: expects one milestone fewer than schedules, got {} schedules and {} milestones",
                      schedulers_.size(), milestones_.size());
  DESCENT_CHECK_VALUE(std::is_sorted(milestones_.begin(), milestones_.end()),
                      "SequentialLR: milestones must be sorted, got {}", milestones_);
  last_epoch_ = 0;
  // Reset the learning rates to their initial values and undo the schedules' initial steps.
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) optimizer.set_lr(g, *optimizer.initial_lr(g));
  for (const auto& s : schedulers_) s->last_epoch_ -= 1;
  // Perform the initial step of the first schedule only.
  schedulers_[0]->initial_step();
  last_lr_ = schedulers_[0]->get_last_lr();
}

void SequentialLR::step() {
  last_epoch_ += 1;
  const auto idx = static_cast<std::size_t>(std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) -
                                            milestones_.begin());
  LRScheduler& scheduler = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_) {
    scheduler.step_to(0);
  } else {
    scheduler.step();
  }
  last_lr_ = scheduler.get_last_lr();
}

void SequentialLR::fields(ScheduleFields& f) {
  f.field("last_epoch", last_epoch_);
  f.field("milestones", milestones_);
  f.field("last_lr", last_lr_, true);
  const std::string saved = f.prefix;
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    f.prefix = saved + fmt::format("schedulers.{}.", i);
    schedulers_[i]->fields(f);
  }
  f.prefix = saved;
}

// --- ReduceLROnPlateau ----------------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& options)
    : Scheduler("ReduceLROnPlateau", optimizer), options_(options) {
  const std::size_t groups = optimizer.num_param_groups();
  validate(options_, groups);
  if (options_.min_lrs.empty()) options_.min_lrs.assign(groups, options_.min_lr);
  // _reset(): best is the worst value of the mode
  best_ = options_.mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  cooldown_counter_ = 0;
  num_bad_epochs_ = 0;
  last_epoch_ = 0;
  record_last_lr();
}

void ReduceLROnPlateau::validate(const ReduceLROnPlateauOptions& o, std::size_t groups) {
  DESCENT_CHECK_VALUE(o.factor < 1.0, "ReduceLROnPlateau: factor should be < 1.0, got {}", o.factor);
  DESCENT_CHECK_VALUE(o.mode == "min" || o.mode == "max", "ReduceLROnPlateau: mode \"{}\" is unknown (min or max)",
                      o.mode);
  DESCENT_CHECK_VALUE(o.threshold_mode == "rel" || o.threshold_mode == "abs",
                      "ReduceLROnPlateau: threshold mode \"{}\" is unknown (rel or abs)", o.threshold_mode);
  DESCENT_CHECK_VALUE(o.min_lrs.empty() || o.min_lrs.size() == groups, "ReduceLROnPlateau: expected {} min_lrs, got {}",
                      groups, o.min_lrs.size());
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  if (options_.mode == "min" && options_.threshold_mode == "rel") return a < best * (1. - options_.threshold);
  if (options_.mode == "min" && options_.threshold_mode == "abs") return a < best - options_.threshold;
  if (options_.mode == "max" && options_.threshold_mode == "rel") return a > best * (options_.threshold + 1.);
  return a > best + options_.threshold;
}

void ReduceLROnPlateau::step(double metric) {
  const double current = metric;
  last_epoch_ += 1;
  if (is_better(current, best_)) {
    best_ = current;
    num_bad_epochs_ = 0;
  } else {
    num_bad_epochs_ += 1;
  }
  if (in_cooldown()) {
    cooldown_counter_ -= 1;
    num_bad_epochs_ = 0;  // ignore any bad epochs in cooldown
  }
  if (num_bad_epochs_ > options_.patience) {
    for (std::size_t g = 0; g < optimizer_->num_param_groups(); ++g) {
      const double old_lr = optimizer_->lr(g);
      const double new_lr = std::max(old_lr * options_.factor, options_.min_lrs[g]);
      if (old_lr - new_lr > options_.eps) optimizer_->set_lr(g, new_lr);
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  record_last_lr();
}

void ReduceLROnPlateau::fields(ScheduleFields& f) {
  f.field("mode", options_.mode);
  f.field("factor", options_.factor);
  f.field("patience", options_.patience);
  f.field("threshold", options_.threshold);
  f.field("threshold_mode", options_.threshold_mode);
  f.field("cooldown", options_.cooldown);
  f.field("min_lrs", options_.min_lrs, true);
  f.field("eps", options_.eps);
  f.field("cooldown_counter", cooldown_counter_);
  f.field("best", best_);
  f.field("num_bad_epochs", num_bad_epochs_);
  f.field("last_epoch", last_epoch_);
  f.field("last_lr", last_lr_, true);
}

}  // namespace descent::optim
