#pragma once
// The training loop: epochs of mini-batch gradient descent over a DataLoader, validation after each
// epoch, metrics, callbacks, and a history. The CLI is built on it; a C++ user calls it directly.
//
//   Trainer trainer(model, optimizer, [](const Tensor& out, const Tensor& y) { return cross_entropy(out, y); },
//                   {.task = Task::Classification, .num_classes = 10});
//   trainer.add_callback(std::make_shared<EarlyStopping>(EarlyStoppingOptions{.patience = 3}));
//   History h = trainer.fit(train_loader, &val_loader, 20);
//   Evaluation test = trainer.evaluate(test_loader);
//
// Each step: model.train(), zero_grad, forward, loss (the callbacks' on_loss), backward (their
// on_backward_end), optional gradient clipping, optimizer step. A loss that is NaN or infinite stops training with a
// ValueError that names the epoch, the step and the batch. Per epoch the logs hold "epoch", "loss" (mean over the epoch's examples), the
// metrics ("accuracy", "top5_accuracy", ... or "mae", "rmse", "r2"), the same with "val_" for the
// validation data, "lr" (group 0's learning rate during the epoch) and "seconds".

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "descent/core/tensor.h"
#include "descent/data/csv.h"
#include "descent/data/dataset.h"
#include "descent/nn/module.h"
#include "descent/optim/optimizer.h"
#include "descent/train/callbacks.h"
#include "descent/train/history.h"
#include "descent/train/metrics.h"

namespace descent::train {

/// The loss of a batch: (model output, targets) -> 0-d tensor.
using LossFunction = std::function<Tensor(const Tensor& output, const Tensor& target)>;

struct TrainerOptions {
  data::Task task = data::Task::Classification;
  /// Classification: the number of classes (2 for a binary classifier with one output).
  std::int64_t num_classes = 0;
  std::vector<std::int64_t> top_k = {};
  /// Gradient clipping before each step (0 = off): by total L2 norm, or by value.
  double clip_grad_norm = 0.0;
  double clip_grad_value = 0.0;
  /// Record every step's loss in the history (the report's per-step chart).
  bool record_steps = true;
};

/// Where fit is, for progress displays (meaningful between on_epoch_begin and on_epoch_end).
struct FitProgress {
  std::int64_t epochs = 0;            // the epoch count fit trains up to
  std::int64_t epoch = 0;             // the current epoch, 1-based
  std::int64_t steps_per_epoch = 0;
  std::int64_t step_in_epoch = 0;     // steps done in the current epoch
  std::int64_t samples_in_epoch = 0;  // examples seen in the current epoch
  double loss = 0;                    // mean loss over those examples
  std::string metric_name;            // the running training metric: "accuracy" or "rmse"
  double metric = 0;
};

/// The result of an evaluation: the mean loss and the metrics of the task.
struct Evaluation {
  double loss = 0;
  std::int64_t count = 0;
  std::optional<ClassificationMetrics> classification;
  std::optional<RegressionMetrics> regression;
  /// "loss" and the metrics' scalars.
  std::map<std::string, double> scalars() const;
};

class Trainer {
 public:
  Trainer(nn::Module& model, optim::Optimizer& optimizer, LossFunction loss, const TrainerOptions& options);

  void add_callback(std::shared_ptr<Callback> callback);
  const std::vector<std::shared_ptr<Callback>>& callbacks() const { return callbacks_; }

  /// Trains until `epochs` epochs have completed in total (a resumed trainer continues from
  /// epochs_done()), or a callback stops it. Sets each loader's epoch (0-based) before using it.
  /// Returns the history (also kept: history()).
  const History& fit(data::DataLoader& train, data::DataLoader* validation, std::int64_t epochs);
  /// Mean loss and metrics over a loader, in evaluation mode without recording a graph (restores
  /// the model's mode). Targets are required.
  Evaluation evaluate(const data::DataLoader& loader);
  /// The model's outputs for inputs [N, ...], computed in batches in evaluation mode.
  Tensor predict(const Tensor& inputs, std::int64_t batch_size = 256);

  /// Asks fit to stop at the end of the current epoch, with a reason for the history.
  void request_stop(const std::string& reason);
  bool stop_requested() const { return stop_requested_; }

  nn::Module& model() { return model_; }
  optim::Optimizer& optimizer() { return optimizer_; }
  const TrainerOptions& options() const { return options_; }
  std::int64_t epochs_done() const { return epochs_done_; }
  std::int64_t global_step() const { return global_step_; }
  const History& history() const { return history_; }
  /// The running state of the current epoch (progress bars read it at every step).
  FitProgress progress() const;

  /// Epochs done, step, history and every callback's state, for checkpoints ("epochs_done",
  /// "global_step" as int64 0-d; "history" as int64 bytes of its JSON; "callback.<name>.<key>").
  std::map<std::string, Tensor> state_dict() const;
  /// Restores it (callbacks are matched by name; ValueError for missing keys).
  void load_state_dict(const std::map<std::string, Tensor>& state);

 private:
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  LossFunction loss_;
  TrainerOptions options_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  History history_;
  std::int64_t epochs_done_ = 0;
  std::int64_t global_step_ = 0;
  bool stop_requested_ = false;
  std::string stop_reason_;

  // The epoch in progress (for progress()): training metrics accumulate over the epoch's batches.
  std::int64_t fit_epochs_ = 0;
  std::int64_t current_epoch_ = 0;
  std::int64_t steps_per_epoch_ = 0;
  std::int64_t step_in_epoch_ = 0;
  std::int64_t samples_in_epoch_ = 0;
  double loss_sum_ = 0;  // sum over the epoch's batches of loss * batch size
  std::optional<ClassificationMetrics> train_classification_;
  std::optional<RegressionMetrics> train_regression_;

  void train_epoch(data::DataLoader& train);
  EpochLogs epoch_logs(data::DataLoader* validation, double lr, double seconds);
};

}  // namespace descent::train
