#pragma once
// Metrics accumulated over the batches of an epoch or an evaluation, then read once.
//
//   ClassificationMetrics m(10, {.top_k = {5}});
//   for (const Batch& b : loader) m.update(model(b.inputs), b.targets);
//   m.accuracy(); m.top_k_accuracy(5); m.confusion_matrix(); m.f1();
//
// Binary classifiers (one output per example: a logit, or a margin for hinge loss) are classified by
// the sign of the output (> 0 is class 1); their targets may be 0/1 or -1/+1 (> 0 is class 1).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::train {

struct ClassificationMetricsOptions {
  /// The k of every top-k accuracy to track (k <= number of classes).
  std::vector<std::int64_t> top_k = {};
};

class ClassificationMetrics {
 public:
  /// num_classes >= 2; with 2 classes the outputs may be [N] or [N, 1] (binary) or [N, 2].
  explicit ClassificationMetrics(std::int64_t num_classes, const ClassificationMetricsOptions& options = {});

  /// Adds a batch: outputs [N, C] scores (any monotone scale: logits or probabilities), or [N] / [N, 1]
  /// for binary; targets [N] class indices (int64, or floating 0/1, -1/+1 for binary). ShapeError
  /// naming both shapes when they disagree; IndexError for a class index outside [0, C).
  void update(const Tensor& outputs, const Tensor& targets);
  void reset();

  std::int64_t num_classes() const { return num_classes_; }
  std::int64_t count() const { return count_; }
  double accuracy() const;
  /// ValueError for a k that was not requested in the options.
  double top_k_accuracy(std::int64_t k) const;
  /// [true class][predicted class] counts.
  const std::vector<std::vector<std::int64_t>>& confusion_matrix() const { return confusion_; }
  /// Per class; 0 where the denominator is 0 (scikit-learn's zero_division=0).
  std::vector<double> precision() const;
  std::vector<double> recall() const;
  std::vector<double> f1() const;
  double macro_f1() const;
  /// "accuracy", "top5_accuracy", ... and "macro_f1".
  std::map<std::string, double> scalars() const;

 private:
  std::int64_t num_classes_;
  ClassificationMetricsOptions options_;
  std::int64_t count_ = 0;
  std::vector<std::int64_t> top_k_hits_;
  std::vector<std::vector<std::int64_t>> confusion_;
};

class RegressionMetrics {
 public:
  /// Adds a batch of predictions and targets of the same shape ([N] or [N, T]; [N, 1] and [N] mix).
  void update(const Tensor& predictions, const Tensor& targets);
  void reset();

  std::int64_t count() const { return count_; }
  /// Mean absolute error, mean squared error and its square root, over every element (all targets).
  double mae() const;
  double mse() const;
  double rmse() const;
  /// Coefficient of determination 1 - SS_res / SS_tot, averaged over targets (scikit-learn's
  /// uniform_average); for a constant target, 1 when predicted exactly and 0 otherwise (as r2_score).
  double r2() const;
  /// "mae", "rmse", "r2".
  std::map<std::string, double> scalars() const;

 private:
  std::int64_t count_ = 0;
  // Per target, in float64: sums of |residual| and residual^2, the targets' running mean and sum of
  // squared deviations (Welford, so that a constant target has exactly zero variance).
  std::vector<double> abs_sum_, sq_sum_, target_mean_, target_m2_;
};

}  // namespace descent::train
