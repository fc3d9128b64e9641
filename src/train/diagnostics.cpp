// Diagnostics: per-layer statistics gathered by forward hooks (activations, non-finite outputs) and
// by the step callbacks (gradient and weight norms, updates), and the rules that turn them into
// diagnoses. Each rule reports at most once per run; rules that only restate a cause already
// found (a plateau caused by vanishing gradients or dead units) stay silent.

#include "descent/train/diagnostics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "descent/autograd/grad_mode.h"
#include "descent/train/trainer.h"
#include "internal/check.h"

namespace descent::train {

namespace {

using nlohmann::json;

const std::set<std::string> kActivationTypes = {"ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Sigmoid", "Tanh"};

// Reductions over a float32 or float64 tensor, in double, vectorized (omp simd: the order of the
// additions may change, which only moves the last bits of a statistic).
template <typename T>
double sum_sq(const T* p, std::int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(p[i]) * p[i];
  return s;
}

double sum_of_squares(const Tensor& t) {
  const Tensor c = t.contiguous();
  if (c.dtype() == kFloat32) return sum_sq(c.data_ptr<float>(), c.numel());
  if (c.dtype() == kFloat64) return sum_sq(c.data_ptr<double>(), c.numel());
  return 0;
}

template <typename T>
double dist_sq(const T* p, const T* q, std::int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t i = 0; i < n; ++i) s += (static_cast<double>(p[i]) - q[i]) * (static_cast<double>(p[i]) - q[i]);
  return s;
}

// |a - b|^2 for two tensors of one shape and dtype.
double squared_distance(const Tensor& a, const Tensor& b) {
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  if (ca.dtype() == kFloat32) return dist_sq(ca.data_ptr<float>(), cb.data_ptr<float>(), ca.numel());
  if (ca.dtype() == kFloat64) return dist_sq(ca.data_ptr<double>(), cb.data_ptr<double>(), ca.numel());
  return 0;
}

// x * 0 is 0 for a finite x and NaN for NaN or Inf: the sum is NaN exactly when one value is not
// finite, and it vectorizes (std::isfinite in a loop does not).
template <typename T>
bool all_finite(const T* p, std::int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (std::int64_t i = 0; i < n; ++i) s += p[i] * T(0);
  return s == T(0);
}

bool is_finite(const Tensor& t) {
  if (!t.defined() || (t.dtype() != kFloat32 && t.dtype() != kFloat64)) return true;
  const Tensor c = t.contiguous();
  return c.dtype() == kFloat32 ? all_finite(c.data_ptr<float>(), c.numel()) : all_finite(c.data_ptr<double>(), c.numel());
}

// The first non-finite value's kind, for messages.
std::string non_finite_kind(const Tensor& t) {
  const std::vector<double> v = t.to(kFloat64).contiguous().to_vector<double>();
  for (double x : v) {
    if (std::isnan(x)) return "NaN";
    if (std::isinf(x)) return x > 0 ? "+Inf" : "-Inf";
  }
  return "finite values";
}

std::string pretty_kind(const std::string& kind) {
  std::string s = kind;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double log_value(const EpochLogs& logs, const std::string& key) {
  const auto it = logs.find(key);
  return it == logs.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

}  // namespace

std::string to_string(const Diagnosis& d) {
  std::string where = d.step > 0 ? fmt::format("epoch {}, step {}", d.epoch, d.step) : fmt::format("epoch {}", d.epoch);
  return fmt::format("diagnosis at {}: {}: {}\n  remedy: {}\n", where, pretty_kind(d.kind), d.message, d.remedy);
}

// One watched layer and what it accumulates over the current epoch.
struct Diagnostics::Layer {
  std::string name;  // in the model: "0", "encoder.1"; the type for a model that is one layer
  std::string type;  // "Linear"
  nn::Module* module = nullptr;
  std::vector<Tensor> params;  // its own trainable parameters
  std::int64_t numel = 0;
  bool activation = false;
  bool relu = false;

  Tensor last_input, last_output;  // of the step's training forward, until the step ends
  std::vector<Tensor> before;  // the parameters just before the optimizer step
  double grad_norm_sum = 0;
  double last_grad_norm = 0;
  double ratio_sum = 0;
  std::int64_t steps = 0;
  double act_sum = 0, act_sumsq = 0;
  std::int64_t act_count = 0;
  std::vector<char> ever_active;  // per unit (ReLU layers)

  std::string label() const { return name == type ? type : fmt::format("{} ({})", name, type); }
  bool parameterized() const { return !params.empty(); }

  void reset_epoch() {
    grad_norm_sum = ratio_sum = 0;
    steps = 0;
    act_sum = act_sumsq = 0;
    act_count = 0;
    ever_active.clear();
  }

  double mean_grad_norm() const { return steps > 0 ? grad_norm_sum / static_cast<double>(steps) : 0.0; }
  // RMS gradient per weight: norms of layers of different sizes become comparable.
  double rms_grad() const { return numel > 0 ? mean_grad_norm() / std::sqrt(static_cast<double>(numel)) : 0.0; }
  double dead_fraction() const {
    if (ever_active.empty()) return 0.0;
    const auto dead = std::count(ever_active.begin(), ever_active.end(), 0);
    return static_cast<double>(dead) / static_cast<double>(ever_active.size());
  }

  // Statistics of one training forward's output (float32 or float64).
  template <typename T>
  void observe(const T* p, std::int64_t n, std::int64_t units, std::int64_t inner) {
    double s = 0, s2 = 0;
#pragma omp simd reduction(+ : s, s2)
    for (std::int64_t i = 0; i < n; ++i) {
      s += p[i];
      s2 += static_cast<double>(p[i]) * p[i];
    }
    act_sum += s;
    act_sumsq += s2;
    act_count += n;
    if (!relu) return;
    if (static_cast<std::int64_t>(ever_active.size()) != units) ever_active.assign(static_cast<std::size_t>(units), 0);
    // Unit u of sample b covers [b * units * inner + u * inner, ... + inner). A unit is looked at
    // only until it is first seen active: cheap once the units are alive.
    for (std::int64_t start = 0; start < n; start += units * inner) {
      for (std::int64_t u = 0; u < units; ++u) {
        if (ever_active[u]) continue;
        const T* q = p + start + u * inner;
        for (std::int64_t k = 0; k < inner; ++k) {
          if (q[k] > T(0)) {
            ever_active[u] = 1;
            break;
          }
        }
      }
    }
  }
};

Diagnostics::Diagnostics(nn::Module& model, const DiagnosticsOptions& options) : model_(model), options_(options) {
  DESCENT_CHECK_VALUE(options.vanishing_ratio > 0 && options.exploding_factor > 1 && options.diverging_factor > 1 &&
                          options.dead_fraction >= 0 && options.dead_fraction < 1 && options.baseline_steps > 0 &&
                          options.overfitting_patience > 0 && options.plateau_patience > 0 &&
                          options.plateau_improvement > 0,
                      "Diagnostics: invalid options (need vanishing_ratio > 0, exploding_factor > 1, diverging_factor "
                      "> 1, 0 <= dead_fraction < 1, baseline_steps, overfitting_patience and plateau_patience > 0, "
                      "plateau_improvement > 0)");
  for (auto& [name, module] : model_.named_modules()) {
    if (!module->children().empty()) continue;
    auto layer = std::make_unique<Layer>();
    layer->type = module->type_name();
    layer->name = name.empty() ? layer->type : name;
    layer->module = module;
    for (const Tensor& p : module->parameters(false)) {
      if (p.requires_grad()) {
        layer->params.push_back(p);
        layer->numel += p.numel();
      }
    }
    layer->activation = kActivationTypes.count(layer->type) > 0;
    layer->relu = layer->type == "ReLU";
    layers_.push_back(std::move(layer));
  }
}

Diagnostics::~Diagnostics() { detach_hooks(); }

std::vector<std::string> Diagnostics::layers() const {
  std::vector<std::string> out;
  for (const auto& l : layers_) out.push_back(l->label());
  return out;
}

void Diagnostics::attach_hooks() {
  detach_hooks();
  for (const auto& owned : layers_) {
    Layer* layer = owned.get();
    const std::size_t handle = layer->module->register_forward_hook([this, layer](nn::Module& m, const Tensor& input,
                                                                                   const Tensor& output) {
      if (!m.is_training() || trainer_ == nullptr || !output.defined()) return;
      if (output.dtype() != kFloat32 && output.dtype() != kFloat64) return;
      // Kept (handles, no copies: autograd keeps most of them alive anyway) for on_loss to search
      // when the loss is not finite; checking every output at every step would cost a pass each.
      layer->last_input = input;
      layer->last_output = output;
      if (!layer->activation) return;
      const Tensor out = output.contiguous();
      const std::int64_t units = out.dim() >= 2 ? out.size(1) : 1;
      std::int64_t inner = 1;
      for (std::int64_t k = 2; k < out.dim(); ++k) inner *= out.size(k);
      if (out.dtype() == kFloat32) {
        layer->observe(out.data_ptr<float>(), out.numel(), units, inner);
      } else {
        layer->observe(out.data_ptr<double>(), out.numel(), units, inner);
      }
    });
    hooks_.emplace_back(layer->module, handle);
  }
}

void Diagnostics::detach_hooks() {
  for (auto [module, handle] : hooks_) module->remove_hook(handle);
  hooks_.clear();
}

bool Diagnostics::reported(const std::string& kind) const {
  return std::any_of(diagnoses_.begin(), diagnoses_.end(), [&](const Diagnosis& d) { return d.kind == kind; });
}

void Diagnostics::report(Diagnosis diagnosis) {
  if (reported(diagnosis.kind)) return;
  if (options_.out != nullptr) *options_.out << to_string(diagnosis) << std::flush;
  diagnoses_.push_back(std::move(diagnosis));
}

void Diagnostics::stop_on_non_finite(Diagnosis diagnosis) {
  const std::string text = fmt::format("Diagnostics: non-finite values at epoch {}, step {}: {}; {}", diagnosis.epoch,
                                       diagnosis.step, diagnosis.message, diagnosis.remedy);
  report(std::move(diagnosis));
  throw ValueError(text);
}

void Diagnostics::on_loss(Trainer& trainer, double loss) {
  if (std::isfinite(loss)) return;
  // The first layer, in forward order, whose output is not finite is where it appeared.
  for (const auto& owned : layers_) {
    const Layer& l = *owned;
    if (!l.last_output.defined() || is_finite(l.last_output)) continue;
    const bool input_finite = is_finite(l.last_input);
    const std::string kind = non_finite_kind(input_finite ? l.last_output : l.last_input);
    stop_on_non_finite(
        {.kind = "non_finite",
         .epoch = trainer.epochs_done() + 1,
         .step = trainer.global_step() + 1,
         .layer = l.label(),
         .message = input_finite
                        ? fmt::format("layer {} produced {} in the forward pass from a finite input", l.label(), kind)
                        : fmt::format("the input of layer {} already holds {}: check the data", l.label(), kind),
         .remedy = fmt::format("lower the learning rate (now {:g}), clip gradients, use Xavier or He initialization; "
                               "training stopped",
                               trainer.optimizer().lr(0))});
  }
  // Every layer's output is finite: the loss itself overflowed; the trainer's check says so.
}

void Diagnostics::on_train_begin(Trainer& trainer) {
  trainer_ = &trainer;
  attach_hooks();
}

void Diagnostics::on_train_end(Trainer&) {
  detach_hooks();
  trainer_ = nullptr;
}

void Diagnostics::on_epoch_begin(Trainer&, std::int64_t) {
  for (auto& l : layers_) l->reset_epoch();
  steps_in_epoch_ = 0;
}

void Diagnostics::on_backward_end(Trainer& trainer) {
  NoGradGuard no_grad;
  double total_sq = 0;
  // Backward runs from the output to the input: a non-finite gradient appeared first in the
  // parameterized layer nearest the output that has one.
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    Layer& l = **it;
    if (!l.parameterized()) continue;
    double sq = 0;
    for (const Tensor& p : l.params) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      if (!is_finite(g)) {
        stop_on_non_finite({.kind = "non_finite",
                            .epoch = trainer.epochs_done() + 1,
                            .step = trainer.global_step() + 1,
                            .layer = l.label(),
                            .message = fmt::format("the gradient of layer {} holds {} in the backward pass, though "
                                                   "the loss was finite",
                                                   l.label(), non_finite_kind(g)),
                            .remedy = fmt::format("lower the learning rate (now {:g}), clip gradients; training stopped",
                                                  trainer.optimizer().lr(0))});
      }
      sq += sum_of_squares(g);
    }
    l.last_grad_norm = std::sqrt(sq);
    l.grad_norm_sum += l.last_grad_norm;
    total_sq += sq;
    l.before.clear();
    for (const Tensor& p : l.params) l.before.push_back(p.detach().clone());
  }

  const double total = std::sqrt(total_sq);
  if (static_cast<std::int64_t>(baseline_norms_.size()) < options_.baseline_steps) {
    baseline_norms_.push_back(total);
  } else if (const double base = median(baseline_norms_); base > 0 && total > options_.exploding_factor * base) {
    report({.kind = "exploding_gradients",
            .epoch = trainer.epochs_done() + 1,
            .step = trainer.global_step() + 1,
            .layer = {},
            .message = fmt::format("the gradient norm reached {:.3g}, {:.3g} times the median of the first {} steps "
                                   "({:.3g})",
                                   total, total / base, options_.baseline_steps, base),
            .remedy = fmt::format("clip gradients (clip_grad_norm), lower the learning rate (now {:g}), use Xavier "
                                  "or He initialization",
                                  trainer.optimizer().lr(0))});
  }
}

void Diagnostics::on_step_end(Trainer&, const StepRecord&) {
  NoGradGuard no_grad;
  ++steps_in_epoch_;
  for (auto& owned : layers_) {
    Layer& l = *owned;
    l.last_input = l.last_output = Tensor();  // the step went well: let the activations go
    if (!l.parameterized() || l.before.size() != l.params.size()) continue;
    double moved = 0, size = 0;
    for (std::size_t k = 0; k < l.params.size(); ++k) {
      moved += squared_distance(l.params[k], l.before[k]);
      size += sum_of_squares(l.before[k]);
    }
    l.ratio_sum += size > 0 ? std::sqrt(moved / size) : 0.0;
    ++l.steps;
    l.before.clear();
  }
}

void Diagnostics::on_epoch_end(Trainer& trainer, EpochLogs& logs) {
  NoGradGuard no_grad;
  for (const auto& owned : layers_) {
    const Layer& l = *owned;
    if (l.parameterized() && l.steps > 0) {
      double sq = 0;
      for (const Tensor& p : l.params) sq += sum_of_squares(p);
      // A NaN weight can hide behind a ReLU (relu(NaN) = 0) and leave the loss finite.
      if (!std::isfinite(sq)) {
        stop_on_non_finite({.kind = "non_finite",
                            .epoch = static_cast<std::int64_t>(log_value(logs, "epoch")),
                            .step = trainer.global_step(),
                            .layer = l.label(),
                            .message = fmt::format("the parameters of layer {} are no longer finite at the end of the "
                                                   "epoch, though the loss was",
                                                   l.label()),
                            .remedy = fmt::format("lower the learning rate (now {:g}), clip gradients; training stopped",
                                                  trainer.optimizer().lr(0))});
      }
      logs["grad_norm." + l.name] = l.mean_grad_norm();
      logs["weight_norm." + l.name] = std::sqrt(sq);
      logs["update_ratio." + l.name] = l.ratio_sum / static_cast<double>(l.steps);
    }
    if (l.activation && l.act_count > 0) {
      const double n = static_cast<double>(l.act_count);
      const double mean = l.act_sum / n;
      logs["act_mean." + l.name] = mean;
      logs["act_std." + l.name] = std::sqrt(std::max(0.0, l.act_sumsq / n - mean * mean));
      if (l.relu) logs["dead_fraction." + l.name] = l.dead_fraction();
    }
  }
  detect_at_epoch_end(trainer, logs);
}

void Diagnostics::detect_at_epoch_end(Trainer& trainer, const EpochLogs& logs) {
  const std::int64_t epoch = static_cast<std::int64_t>(log_value(logs, "epoch"));
  const double lr = trainer.optimizer().lr(0);

  // Dead units: the ReLU layer with the largest fraction of units never active this epoch.
  const Layer* deadest = nullptr;
  for (const auto& l : layers_) {
    if (l->relu && !l->ever_active.empty() && (deadest == nullptr || l->dead_fraction() > deadest->dead_fraction())) {
      deadest = l.get();
    }
  }
  const bool dead_now = deadest != nullptr && deadest->dead_fraction() > options_.dead_fraction;
  if (dead_now) {
    report({.kind = "dead_units",
            .epoch = epoch,
            .layer = deadest->label(),
            .message = fmt::format("{:.0f} % of the {} units of layer {} were never active during the epoch (their "
                                   "output was 0 for every example), so they pass no gradient back",
                                   100 * deadest->dead_fraction(), deadest->ever_active.size(), deadest->label()),
            .remedy = fmt::format("use Leaky ReLU or PReLU instead of ReLU, or a lower learning rate (now {:g})", lr)});
  }

  // Vanishing: an earlier parameterized layer's RMS gradient far below the last one's. Dead units
  // also zero the gradients before them; they are the cause then, not depth.
  std::vector<const Layer*> param_layers;
  for (const auto& l : layers_) {
    if (l->parameterized() && l->steps > 0) param_layers.push_back(l.get());
  }
  bool vanishing_now = false;
  if (!dead_now && param_layers.size() >= 2) {
    const Layer* last = param_layers.back();
    const Layer* weakest = *std::min_element(param_layers.begin(), param_layers.end() - 1,
                                             [](const Layer* a, const Layer* b) { return a->rms_grad() < b->rms_grad(); });
    if (last->rms_grad() > 0 && weakest->rms_grad() < options_.vanishing_ratio * last->rms_grad()) {
      vanishing_now = true;
      bool saturating = false;
      for (const auto& l : layers_) saturating = saturating || l->type == "Sigmoid" || l->type == "Tanh";
      report({.kind = "vanishing_gradients",
              .epoch = epoch,
              .layer = weakest->label(),
              .message = fmt::format("layer {} gets an RMS gradient of {:.3g} per weight, {:.2g} times that of the "
                                     "last layer, {}, at {:.3g}: the early layers barely learn",
                                     weakest->label(), weakest->rms_grad(), weakest->rms_grad() / last->rms_grad(),
                                     last->label(), last->rms_grad()),
              .remedy = std::string(saturating ? "replace sigmoid/tanh in the hidden layers by ReLU or a variant "
                                                 "(Leaky ReLU, PReLU); "
                                               : "use ReLU or a variant (Leaky ReLU, PReLU); ") +
                        "use He (kaiming) or Xavier initialization; add batch normalization"});
    }
  }

  const History& history = trainer.history();
  const std::vector<double> loss = history.column("loss");

  // Diverging loss: above diverging_factor times the lowest so far, two epochs in a row.
  if (!loss.empty()) {
    const double lowest = *std::min_element(loss.begin(), loss.end());
    rising_epochs_ = loss.back() > options_.diverging_factor * lowest ? rising_epochs_ + 1 : 0;
    if (rising_epochs_ >= 2) {
      report({.kind = "exploding_gradients",
              .epoch = epoch,
              .layer = {},
              .message = fmt::format("the training loss is diverging: {:.4g} now against {:.4g} at its lowest",
                                     loss.back(), lowest),
              .remedy = fmt::format("lower the learning rate (now {:g}), clip gradients (clip_grad_norm), use Xavier "
                                    "or He initialization",
                                    lr)});
    }
  }

  // Overfitting: the validation loss rose for `patience` epochs in a row while the training loss fell.
  const std::vector<double> val = history.column("val_loss");
  const auto p = static_cast<std::size_t>(options_.overfitting_patience);
  if (val.size() > p && loss.size() == val.size() && std::isfinite(val.back())) {
    bool overfitting = true;
    for (std::size_t k = val.size() - p; k < val.size(); ++k) {
      overfitting = overfitting && val[k] > val[k - 1] && loss[k] < loss[k - 1];
    }
    const double best = *std::min_element(val.begin(), val.end());
    if (overfitting && val.back() > 1.01 * best) {
      report({.kind = "overfitting",
              .epoch = epoch,
              .layer = {},
              .message = fmt::format("the validation loss rose for {} epochs ({:.4g} now, {:.4g} at best) while the "
                                     "training loss fell to {:.4g}: the model is learning the training examples, not "
                                     "the task",
                                     p, val.back(), best, loss.back()),
              .remedy = "add L2 (weight_decay) or L1 regularization, dropout, data augmentation, or early stopping"});
    }
  }

  // Plateau: the training loss flat over `patience` epochs, far from fitting the data, and no
  // cause found above.
  const auto q = static_cast<std::size_t>(options_.plateau_patience);
  if (!dead_now && !vanishing_now && !reported("vanishing_gradients") && !reported("dead_units") && loss.size() > q) {
    const double then = loss[loss.size() - 1 - q], now = loss.back();
    const bool flat = then > 0 && std::abs(now - then) < options_.plateau_improvement * then;
    const double accuracy = log_value(logs, "accuracy");
    // A schedule that has cut the learning rate flattens the loss on purpose.
    const std::vector<double> lrs = history.column("lr");
    const bool annealed = !lrs.empty() && lrs.back() < 0.5 * lrs.front();
    const bool fitted = std::isfinite(accuracy) ? accuracy >= 0.99 : now <= 0.01 * loss.front();
    if (flat && !fitted && !annealed) {
      report({.kind = "plateau",
              .epoch = epoch,
              .layer = {},
              .message = fmt::format("the training loss changed by {:.2g} % over the last {} epochs ({:.4g} -> {:.4g})",
                                     100 * (now - then) / then, q, then, now),
              .remedy = "use a learning-rate schedule (step, cosine, reduce on plateau) or an adaptive optimizer "
                        "(Adam, RMSprop); a larger learning rate if the loss falls steadily but slowly"});
    }
  }
}

std::map<std::string, Tensor> Diagnostics::state_dict() const {
  json found = json::array();
  for (const Diagnosis& d : diagnoses_) {
    found.push_back({{"kind", d.kind}, {"epoch", d.epoch}, {"step", d.step}, {"layer", d.layer},
                     {"message", d.message}, {"remedy", d.remedy}});
  }
  const std::string text = found.dump();
  std::vector<std::int64_t> bytes(text.begin(), text.end());
  std::vector<double> baseline = baseline_norms_;
  if (baseline.empty()) baseline.push_back(std::numeric_limits<double>::quiet_NaN());  // no 0-element tensors
  return {{"diagnoses", tensor_int64(bytes, {static_cast<std::int64_t>(bytes.size())})},
          {"baseline_norms", tensor(baseline, {static_cast<std::int64_t>(baseline.size())}, kFloat64)},
          {"rising_epochs", scalar_tensor(static_cast<double>(rising_epochs_), kInt64)}};
}

void Diagnostics::load_state_dict(const std::map<std::string, Tensor>& state) {
  if (state.empty()) return;  // a checkpoint of a run without diagnostics: start afresh
  const auto get = [&](const std::string& key) -> const Tensor& {
    const auto it = state.find(key);
    DESCENT_CHECK_VALUE(it != state.end() && it->second.defined(), "Diagnostics.load_state_dict: missing key \"{}\"",
                        key);
    return it->second;
  };
  const Tensor& bytes = get("diagnoses");
  DESCENT_CHECK_VALUE(bytes.dim() == 1 && bytes.dtype() == kInt64,
                      "Diagnostics.load_state_dict: \"diagnoses\" must be a 1-D int64 tensor (the bytes of its JSON)");
  std::string text;
  for (std::int64_t c : bytes.to_vector<std::int64_t>()) text.push_back(static_cast<char>(c));
  std::vector<Diagnosis> loaded;
  try {
    for (const json& d : json::parse(text)) {
      loaded.push_back({.kind = d.at("kind"), .epoch = d.at("epoch"), .step = d.at("step"), .layer = d.at("layer"),
                        .message = d.at("message"), .remedy = d.at("remedy")});
    }
  } catch (const json::exception& e) {
    throw ValueError(fmt::format("Diagnostics.load_state_dict: \"diagnoses\" is not valid: {}", e.what()));
  }
  std::vector<double> baseline = get("baseline_norms").to(kFloat64).to_vector<double>();
  std::erase_if(baseline, [](double v) { return std::isnan(v); });
  diagnoses_ = std::move(loaded);
  baseline_norms_ = std::move(baseline);
  rising_epochs_ = static_cast<std::int64_t>(get("rising_epochs").item());
}

}  // namespace descent::train
