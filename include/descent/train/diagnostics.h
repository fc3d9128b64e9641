#pragma once
// Training that explains itself: a callback that measures, per layer and per epoch, what the
// textbooks say to watch (gradient norms, weight norms, update-to-weight ratios, dead ReLU units,
// activation statistics), writes them into the epoch's logs, and reports each problem it detects
// once, with the remedy the textbooks give:
//
//   vanishing_gradients  early layers' gradients orders of magnitude below the last layer's
//   exploding_gradients  a step's gradient norm far above the first steps', or the loss diverging
//   non_finite           NaN or Inf in a layer's output, gradient or parameters: training stops
//                        (ValueError naming the layer, the epoch and the step)
//   dead_units           most ReLU units of a layer never active over an epoch
//   overfitting          the validation loss rising while the training loss falls
//   plateau              the training loss no longer improving, far from fitting the data
//
//   trainer.add_callback(std::make_shared<Diagnostics>(model, DiagnosticsOptions{.out = &std::cerr}));
//
// Logged keys (per epoch), with L the layer's name in the model ("0", "encoder.1"):
//   grad_norm.L     mean over the epoch's steps of the L2 norm of the layer's parameter gradients
//   weight_norm.L   L2 norm of the layer's parameters at the end of the epoch
//   update_ratio.L  mean over the steps of |w_after - w_before| / |w_before| (healthy: ~1e-3)
//   act_mean.L, act_std.L  of an activation layer's outputs over the epoch
//   dead_fraction.L (ReLU layers) the fraction of units (features, or channels of images) that
//                   were never positive during the epoch
// A layer is a module without children; "parameterized" layers (Linear, Conv2d, BatchNorm, PReLU)
// get the first three, activation layers (ReLU, LeakyReLU, PReLU, ELU, GELU, Sigmoid, Tanh) the
// others.

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "descent/nn/module.h"
#include "descent/train/callbacks.h"

namespace descent::train {

struct DiagnosticsOptions {
  /// Where each diagnosis is printed when found (null: nowhere; diagnoses() still has them).
  std::ostream* out = nullptr;
  /// Vanishing: the smallest RMS gradient per weight of an earlier layer is below this times the
  /// last parameterized layer's.
  double vanishing_ratio = 1e-3;
  /// Exploding: a step's total gradient norm exceeds this times the median of the first
  /// `baseline_steps` steps' norms.
  double exploding_factor = 1e3;
  std::int64_t baseline_steps = 10;
  /// Exploding (diverging loss): the epoch's training loss exceeds this times the lowest so far,
  /// two epochs in a row.
  double diverging_factor = 1.5;
  /// Dead units: more than this fraction of a ReLU layer's units never active over an epoch.
  double dead_fraction = 0.5;
  /// Overfitting: the validation loss rose for this many epochs in a row while the training loss
  /// fell, and stands more than 1 % above its best.
  std::int64_t overfitting_patience = 2;
  /// Plateau: over this many epochs the training loss improved by less than plateau_improvement
  /// (relative), while the training accuracy is below 0.99 (classification) or the loss above 1 %
  /// of the first epoch's (regression), and the learning rate is above half its first value (a
  /// schedule that cut it flattens the loss on purpose).
  std::int64_t plateau_patience = 3;
  double plateau_improvement = 0.01;
};

/// A problem found, once per kind and run.
struct Diagnosis {
  std::string kind;     // "vanishing_gradients", "exploding_gradients", "non_finite", "dead_units", "overfitting", "plateau"
  std::int64_t epoch = 0;
  std::int64_t step = 0;  // the global step, where it applies (0 otherwise)
  std::string layer;    // the layer concerned, as "0 (Linear)"; empty when none is
  std::string message;  // what was measured
  std::string remedy;   // what to try
};

/// "diagnosis at epoch 3: vanishing gradients: ...\n  remedy: ...\n".
std::string to_string(const Diagnosis& diagnosis);

class Diagnostics : public Callback {
 public:
  /// Watches `model` (the trainer's), which must outlive the callback.
  explicit Diagnostics(nn::Module& model, const DiagnosticsOptions& options = {});
  ~Diagnostics() override;
  Diagnostics(const Diagnostics&) = delete;
  Diagnostics& operator=(const Diagnostics&) = delete;

  std::string name() const override { return "diagnostics"; }
  void on_train_begin(Trainer& trainer) override;
  void on_epoch_begin(Trainer& trainer, std::int64_t epoch) override;
  void on_loss(Trainer& trainer, double loss) override;
  void on_backward_end(Trainer& trainer) override;
  void on_step_end(Trainer& trainer, const StepRecord& step) override;
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override;
  void on_train_end(Trainer& trainer) override;
  std::map<std::string, Tensor> state_dict() const override;
  void load_state_dict(const std::map<std::string, Tensor>& state) override;

  /// Every diagnosis of the run so far (restored on resume), in the order found.
  const std::vector<Diagnosis>& diagnoses() const { return diagnoses_; }
  /// The layers watched, in forward order: "0 (Linear)", "1 (ReLU)", ...
  std::vector<std::string> layers() const;

 private:
  struct Layer;
  void attach_hooks();
  void detach_hooks();
  void report(Diagnosis diagnosis);
  [[noreturn]] void stop_on_non_finite(Diagnosis diagnosis);
  bool reported(const std::string& kind) const;
  void detect_at_epoch_end(Trainer& trainer, const EpochLogs& logs);

  nn::Module& model_;
  DiagnosticsOptions options_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::pair<nn::Module*, std::size_t>> hooks_;
  Trainer* trainer_ = nullptr;
  std::vector<Diagnosis> diagnoses_;
  std::vector<double> baseline_norms_;  // total gradient norms of the run's first steps
  std::int64_t steps_in_epoch_ = 0;
  std::int64_t rising_epochs_ = 0;      // consecutive epochs of a diverging loss
};

}  // namespace descent::train
