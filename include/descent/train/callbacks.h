#pragma once
// Callbacks hook into Trainer::fit at the start and end of training, of each epoch and of each step.
// Those that decide something across epochs keep state that checkpoints save (state_dict), so a
// resumed run decides exactly as an uninterrupted one.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "descent/core/tensor.h"
#include "descent/nn/module.h"
#include "descent/optim/schedule.h"
#include "descent/train/history.h"

namespace descent::train {

class Trainer;

/// Named values of an epoch: "epoch" (1-based), "loss", "accuracy", "val_loss", "lr", "seconds", ...
using EpochLogs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  /// A stable name: the key of this callback's state in checkpoints.
  virtual std::string name() const = 0;
  virtual void on_train_begin(Trainer&) {}
  virtual void on_epoch_begin(Trainer&, std::int64_t /*epoch, 1-based*/) {}
  /// After the step's forward pass and loss, before the trainer checks that the loss is finite (a
  /// callback may throw a more precise error than the trainer's when it is not).
  virtual void on_loss(Trainer&, double /*loss*/) {}
  /// After the step's backward, before gradient clipping and the optimizer step: the gradients
  /// are the raw ones of the batch.
  virtual void on_backward_end(Trainer&) {}
  virtual void on_step_end(Trainer&, const StepRecord&) {}
  /// Called after validation, with the epoch's complete logs (a callback may add keys, e.g. "lr").
  virtual void on_epoch_end(Trainer&, EpochLogs&) {}
  virtual void on_train_end(Trainer&) {}
  virtual std::map<std::string, Tensor> state_dict() const { return {}; }
  virtual void load_state_dict(const std::map<std::string, Tensor>&) {}
};

/// Whether larger or smaller is better for a monitored value; Auto: "max" for names containing
/// "accuracy", "f1" or "r2", else "min".
enum class Mode { Auto, Min, Max };

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  std::int64_t patience = 5;
  /// An improvement smaller than this does not count.
  double min_delta = 0.0;
  Mode mode = Mode::Auto;
  /// At the end, load the weights of the best epoch back into the model.
  bool restore_best_weights = false;
};

/// Stops when the monitored value has not improved for `patience` epochs (as Keras' EarlyStopping).
/// ValueError at the end of the first epoch when the monitored key is not in the logs (listing them).
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const EarlyStoppingOptions& options = {});
  std::string name() const override { return "early_stopping"; }
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;
  void on_train_end(Trainer& trainer) override;
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& state) override;
  std::optional<double> best() const { return best_; }
  std::int64_t best_epoch() const { return best_epoch_; }

 private:
  EarlyStoppingOptions options_;
  std::optional<double> best_;
  std::int64_t best_epoch_ = 0;
  std::int64_t wait_ = 0;
  std::optional<nn::StateDict> best_weights_;  // clones, when restore_best_weights
};

/// Saves through a function the caller provides (the CLI writes a full checkpoint): "last" after
/// every epoch, and "best" when the monitored value improves. Add it after the callbacks whose
/// state it saves (early stopping, schedules), so the checkpoint holds their state after the epoch.
/// ValueError when the monitored key is not in the logs.
class CheckpointCallback : public Callback {
 public:
  using Save = std::function<void(Trainer& trainer, const std::string& which)>;
  CheckpointCallback(Save save, std::string monitor = "val_loss", Mode mode = Mode::Auto);
  std::string name() const override { return "checkpoint"; }
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

 private:
  Save save_;
  std::string monitor_;
  Mode mode_;
  std::optional<double> best_;
};

/// When a schedule steps.
enum class ScheduleInterval { Epoch, Step };

/// Steps a learning-rate schedule after every epoch (or every optimizer step, for OneCycleLR), or
/// ReduceLROnPlateau with the monitored value (the trainer records the epoch's "lr" itself).
/// The schedule's own state is saved by whoever owns it (the CLI saves it in the checkpoint).
class LRSchedulerCallback : public Callback {
 public:
  LRSchedulerCallback(std::shared_ptr<optim::Scheduler> scheduler, ScheduleInterval interval = ScheduleInterval::Epoch,
                      std::string monitor = "val_loss");
  std::string name() const override { return "lr_scheduler"; }
  void on_step_end(Trainer& trainer, const StepRecord& step) override;
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;
  const std::shared_ptr<optim::Scheduler>& scheduler() const { return scheduler_; }

 private:
  std::shared_ptr<optim::Scheduler> scheduler_;
  ScheduleInterval interval_;
  std::string monitor_;
};

/// Stops once the monitored value (default: the epoch's training loss) reaches the target.
class TargetReached : public Callback {
 public:
  explicit TargetReached(double target, std::string monitor = "loss", Mode mode = Mode::Auto);
  std::string name() const override { return "target"; }
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;

 private:
  double target_;
  std::string monitor_;
  Mode mode_;
};

/// Stops when the monitored value changed by less than `tolerance` (absolute) between consecutive
/// epochs, `patience` times in a row: the loss has stopped changing.
class Converged : public Callback {
 public:
  explicit Converged(double tolerance, std::int64_t patience = 1, std::string monitor = "loss");
  std::string name() const override { return "converged"; }
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

 private:
  double tolerance_;
  std::int64_t patience_;
  std::string monitor_;
  std::optional<double> last_;
  std::int64_t count_ = 0;
};

enum class ProgressStyle {
  Auto,   // Bar when the stream is a terminal (stdout/stderr isatty), else Lines
  Bar,    // a bar redrawn in place: epoch, step/steps, loss, metric, samples/s, time left
  Lines,  // one line per epoch
  Quiet,  // nothing
};

/// Shows progress on a stream. Bar, redrawn with '\r' at most 10 times a second:
///   epoch 3/10 [#####.....] 412/938 loss 0.4213 acc 0.8512 12034 samples/s ETA 4s
/// and at the end of each epoch (Bar and Lines) one line with the epoch's logs:
///   epoch 3/10 loss 0.4213 accuracy 0.8512 macro_f1 0.8498 val_loss 0.4480 val_accuracy 0.8401 ... lr 0.01 2.1s
class ProgressLogger : public Callback {
 public:
  ProgressLogger(std::ostream& out, ProgressStyle style = ProgressStyle::Auto);
  std::string name() const override { return "progress"; }
  void on_epoch_begin(Trainer& trainer, std::int64_t epoch) override;
  void on_step_end(Trainer& trainer, const StepRecord& step) override;
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;

 private:
  void draw(Trainer& trainer, double now);

  std::ostream& out_;
  ProgressStyle style_;        // resolved: never Auto
  double epoch_start_ = 0;     // seconds (steady clock)
  double last_draw_ = 0;
  std::size_t drawn_width_ = 0;  // of the bar on screen, to blank what a shorter redraw leaves
};

/// Rewrites metrics.csv (one row per epoch, a column per key) and metrics.jsonl (one JSON object per
/// epoch) in a folder after every epoch, atomically.
class MetricsLogger : public Callback {
 public:
  explicit MetricsLogger(std::string folder);
  std::string name() const override { return "metrics_logger"; }
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;

 private:
  std::string folder_;
};

}  // namespace descent::train
