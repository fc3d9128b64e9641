// The training loop. One step: train mode, zero_grad, forward, loss, (the loss read once: the only
// value the loop needs from it), metrics from the outputs' buffer, backward, clipping, optimizer
// step. Everything that decides across epochs lives in the trainer's or the callbacks' state
// dicts, so fit resumed from a checkpoint at an epoch boundary repeats an uninterrupted run.

#include "descent/train/trainer.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "descent/autograd/grad_mode.h"
#include "descent/ops/shape.h"
#include "descent/optim/clip.h"
#include "internal/check.h"

namespace descent::train {

namespace {

constexpr std::string_view kCallbackPrefix = "callback.";

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Puts the model in evaluation mode and restores its mode on the way out, exceptions included.
class EvalMode {
 public:
  explicit EvalMode(nn::Module& model) : model_(model), was_training_(model.is_training()) { model_.eval(); }
  ~EvalMode() { model_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  nn::Module& model_;
  bool was_training_;
};

Tensor encode_string(const std::string& s) {
  std::vector<std::int64_t> bytes(s.begin(), s.end());
  return tensor_int64(bytes, {static_cast<std::int64_t>(bytes.size())});
}

const Tensor& require(const std::map<std::string, Tensor>& state, const std::string& key) {
  const auto it = state.find(key);
  DESCENT_CHECK_VALUE(it != state.end() && it->second.defined(), "Trainer.load_state_dict: missing key \"{}\"", key);
  return it->second;
}

}  // namespace

std::map<std::string, double> Evaluation::scalars() const {
  std::map<std::string, double> out;
  if (classification) out = classification->scalars();
  if (regression) out = regression->scalars();
  out["loss"] = loss;
  return out;
}

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer, LossFunction loss, const TrainerOptions& options)
    : model_(model), optimizer_(optimizer), loss_(std::move(loss)), options_(options) {
  DESCENT_CHECK_VALUE(static_cast<bool>(loss_), "Trainer: the loss function is empty");
  DESCENT_CHECK_VALUE(options_.task != data::Task::Classification || options_.num_classes >= 2,
                      "Trainer: a classification task needs num_classes >= 2, got {}", options_.num_classes);
  DESCENT_CHECK_VALUE(options_.clip_grad_norm >= 0 && options_.clip_grad_value >= 0,
                      "Trainer: clip_grad_norm ({}) and clip_grad_value ({}) must be >= 0 (0 = off)",
                      options_.clip_grad_norm, options_.clip_grad_value);
  if (options_.task == data::Task::Classification) {
    ClassificationMetrics check(options_.num_classes, {.top_k = options_.top_k});  // validates top_k now
  }
}

void Trainer::add_callback(std::shared_ptr<Callback> callback) {
  DESCENT_CHECK_VALUE(callback != nullptr, "Trainer.add_callback: null callback");
  // Names key the callbacks' state in checkpoints: two stateful callbacks must not share one
  // (two ProgressLoggers, which keep no state, may).
  if (!callback->state_dict().empty()) {
    for (const auto& c : callbacks_) {
      DESCENT_CHECK_VALUE(c->name() != callback->name(),
                          "Trainer.add_callback: a callback named \"{}\" is already there (the name keys its state "
                          "in checkpoints)",
                          callback->name());
    }
  }
  callbacks_.push_back(std::move(callback));
}

void Trainer::request_stop(const std::string& reason) {
  if (stop_requested_) return;  // the first reason is the one that stopped training
  stop_requested_ = true;
  stop_reason_ = reason;
}

FitProgress Trainer::progress() const {
  FitProgress p;
  p.epochs = fit_epochs_;
  p.epoch = current_epoch_;
  p.steps_per_epoch = steps_per_epoch_;
  p.step_in_epoch = step_in_epoch_;
  p.samples_in_epoch = samples_in_epoch_;
  p.loss = samples_in_epoch_ > 0 ? loss_sum_ / static_cast<double>(samples_in_epoch_) : 0.0;
  if (train_classification_) {
    p.metric_name = "accuracy";
    p.metric = train_classification_->accuracy();
  } else if (train_regression_) {
    p.metric_name = "rmse";
    p.metric = train_regression_->rmse();
  }
  return p;
}

void Trainer::train_epoch(data::DataLoader& train) {
  const std::vector<Tensor> params = model_.parameters();
  const std::size_t batches = train.num_batches();
  for (std::size_t i = 0; i < batches; ++i) {
    const data::Batch batch = train.batch(i);
    model_.train();
    optimizer_.zero_grad();
    const Tensor output = model_(batch.inputs);
    const Tensor loss = loss_(output, batch.targets);
    const double value = loss.item();
    const double lr = optimizer_.lr(0);
    for (const auto& c : callbacks_) c->on_loss(*this, value);
    DESCENT_CHECK_VALUE(std::isfinite(value),
                        "Trainer.fit: the loss is {} at epoch {}, global step {}, batch index {} (of {} batches); "
                        "try a lower learning rate (now {:g}) or gradient clipping",
                        value, current_epoch_, global_step_ + 1, i, batches, lr);
    const std::int64_t n = batch.inputs.size(0);
    if (train_classification_) train_classification_->update(output, batch.targets);
    if (train_regression_) train_regression_->update(output, batch.targets);
    loss.backward();
    for (const auto& c : callbacks_) c->on_backward_end(*this);
    if (options_.clip_grad_value > 0) optim::clip_grad_value_(params, options_.clip_grad_value);
    if (options_.clip_grad_norm > 0) optim::clip_grad_norm_(params, options_.clip_grad_norm);
    optimizer_.step();

    ++global_step_;
    ++step_in_epoch_;
    samples_in_epoch_ += n;
    loss_sum_ += value * static_cast<double>(n);
    const StepRecord record{.epoch = current_epoch_, .step = global_step_, .loss = value, .lr = lr};
    if (options_.record_steps) history_.steps.push_back(record);
    for (const auto& c : callbacks_) c->on_step_end(*this, record);
  }
}

EpochLogs Trainer::epoch_logs(data::DataLoader* validation, double lr, double start) {
  EpochLogs logs{{"epoch", static_cast<double>(current_epoch_)},
                 {"loss", loss_sum_ / static_cast<double>(std::max<std::int64_t>(samples_in_epoch_, 1))}};
  const std::map<std::string, double> metrics =
      train_classification_ ? train_classification_->scalars() : train_regression_->scalars();
  logs.insert(metrics.begin(), metrics.end());
  if (validation != nullptr) {
    validation->set_epoch(current_epoch_ - 1);
    for (const auto& [key, value] : evaluate(*validation).scalars()) logs["val_" + key] = value;
  }
  logs["lr"] = lr;
  logs["seconds"] = now_seconds() - start;
  return logs;
}

const History& Trainer::fit(data::DataLoader& train, data::DataLoader* validation, std::int64_t epochs) {
  DESCENT_CHECK_VALUE(epochs >= 0, "Trainer.fit: epochs must be >= 0, got {}", epochs);
  DESCENT_CHECK_VALUE(train.dataset().targets().defined(), "Trainer.fit: the training data has no targets");
  if (epochs <= epochs_done_) return history_;
  stop_requested_ = false;
  stop_reason_.clear();
  fit_epochs_ = epochs;
  steps_per_epoch_ = static_cast<std::int64_t>(train.num_batches());
  for (const auto& c : callbacks_) c->on_train_begin(*this);

  while (epochs_done_ < epochs && !stop_requested_) {
    current_epoch_ = epochs_done_ + 1;
    const double start = now_seconds();
    train.set_epoch(current_epoch_ - 1);
    step_in_epoch_ = 0;
    samples_in_epoch_ = 0;
    loss_sum_ = 0;
    if (options_.task == data::Task::Classification) {
      train_classification_.emplace(options_.num_classes, ClassificationMetricsOptions{.top_k = options_.top_k});
    } else {
      train_regression_.emplace();
    }
    for (const auto& c : callbacks_) c->on_epoch_begin(*this, current_epoch_);
    const double lr = optimizer_.lr(0);

    const std::size_t steps_before = history_.steps.size();
    try {
      train_epoch(train);
    } catch (...) {
      history_.steps.resize(steps_before);  // a failed epoch leaves no trace in the history
      throw;
    }

    EpochLogs logs = epoch_logs(validation, lr, start);
    // The epoch counts as done before the callbacks run, so a checkpoint saved by one of them
    // resumes after this epoch; the row is refreshed after each callback, which may add keys.
    epochs_done_ = current_epoch_;
    history_.epochs.push_back(logs);
    for (const auto& c : callbacks_) {
      c->on_epoch_end(*this, logs);
      history_.epochs.back() = logs;
    }
  }
  history_.stop_reason = stop_requested_ ? stop_reason_ : "completed";
  for (const auto& c : callbacks_) c->on_train_end(*this);
  return history_;
}

Evaluation Trainer::evaluate(const data::DataLoader& loader) {
  DESCENT_CHECK_VALUE(loader.dataset().targets().defined(), "Trainer.evaluate: the data has no targets");
  NoGradGuard no_grad;
  EvalMode eval(model_);
  Evaluation result;
  if (options_.task == data::Task::Classification) {
    result.classification.emplace(options_.num_classes, ClassificationMetricsOptions{.top_k = options_.top_k});
  } else {
    result.regression.emplace();
  }
  double loss_sum = 0;
  for (std::size_t i = 0; i < loader.num_batches(); ++i) {
    const data::Batch batch = loader.batch(i);
    const Tensor output = model_(batch.inputs);
    const std::int64_t n = batch.inputs.size(0);
    loss_sum += loss_(output, batch.targets).item() * static_cast<double>(n);
    result.count += n;
    if (result.classification) result.classification->update(output, batch.targets);
    if (result.regression) result.regression->update(output, batch.targets);
  }
  result.loss = result.count > 0 ? loss_sum / static_cast<double>(result.count) : 0.0;
  return result;
}

Tensor Trainer::predict(const Tensor& inputs, std::int64_t batch_size) {
  DESCENT_CHECK_VALUE(batch_size > 0, "Trainer.predict: batch_size must be > 0, got {}", batch_size);
  DESCENT_CHECK_SHAPE(inputs.dim() >= 1, "Trainer.predict: inputs must be [N, ...], got {}", inputs.shape());
  NoGradGuard no_grad;
  EvalMode eval(model_);
  const std::int64_t n = inputs.size(0);
  if (n <= batch_size) return model_(inputs);
  std::vector<Tensor> outputs;
  for (std::int64_t start = 0; start < n; start += batch_size) {
    outputs.push_back(model_(inputs.slice(0, start, std::min(n, start + batch_size))));
  }
  return cat(outputs, 0);
}

std::map<std::string, Tensor> Trainer::state_dict() const {
  std::map<std::string, Tensor> state{{"epochs_done", scalar_tensor(static_cast<double>(epochs_done_), kInt64)},
                                      {"global_step", scalar_tensor(static_cast<double>(global_step_), kInt64)},
                                      {"history", encode_string(history_.to_json())}};
  for (const auto& c : callbacks_) {
    for (const auto& [key, value] : c->state_dict()) {
      state[std::string(kCallbackPrefix) + c->name() + "." + key] = value;
    }
  }
  return state;
}

void Trainer::load_state_dict(const std::map<std::string, Tensor>& state) {
  const Tensor& epochs = require(state, "epochs_done");
  const Tensor& step = require(state, "global_step");
  const Tensor& history = require(state, "history");
  DESCENT_CHECK_VALUE(epochs.numel() == 1 && step.numel() == 1,
                      "Trainer.load_state_dict: \"epochs_done\" and \"global_step\" must hold one value each");
  DESCENT_CHECK_VALUE(history.dim() == 1 && history.dtype() == kInt64,
                      "Trainer.load_state_dict: \"history\" must be a 1-D int64 tensor (the bytes of its JSON)");
  std::string json;
  for (std::int64_t c : history.to_vector<std::int64_t>()) json.push_back(static_cast<char>(c));
  History loaded = History::from_json(json);

  for (const auto& c : callbacks_) {
    const std::string prefix = std::string(kCallbackPrefix) + c->name() + ".";
    std::map<std::string, Tensor> own;
    for (auto it = state.lower_bound(prefix); it != state.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      own.emplace(it->first.substr(prefix.size()), it->second);
    }
    if (own.empty() && c->state_dict().empty()) continue;  // a callback without state
    c->load_state_dict(own);
  }
  epochs_done_ = static_cast<std::int64_t>(std::llround(epochs.item()));
  global_step_ = static_cast<std::int64_t>(std::llround(step.item()));
  history_ = std::move(loaded);
}

}  // namespace descent::train
