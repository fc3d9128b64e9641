// Classification and regression metrics, accumulated from raw buffers (no tensor op per element):
// counts for classification, float64 sums and Welford moments for regression.

#include "descent/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "internal/check.h"

namespace descent::train {

namespace {

// Calls f(const T* data) with the contiguous elements of a tensor of any dtype.
template <typename F>
void with_data(const Tensor& t, F&& f) {
  const Tensor c = t.contiguous();
  switch (c.dtype()) {
    case DType::Float32: f(c.data_ptr<float>()); break;
    case DType::Float64: f(c.data_ptr<double>()); break;
    case DType::Int64: f(c.data_ptr<std::int64_t>()); break;
  }
}

double ratio(std::int64_t num, std::int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

}  // namespace

// --- classification -------------------------------------------------------------------------------

ClassificationMetrics::ClassificationMetrics(std::int64_t num_classes, const ClassificationMetricsOptions& options)
    : num_classes_(num_classes), options_(options) {
  DESCENT_CHECK_VALUE(num_classes >= 2, "ClassificationMetrics: num_classes must be >= 2, got {}", num_classes);
  for (std::int64_t k : options_.top_k) {
    DESCENT_CHECK_VALUE(k >= 1 && k <= num_classes, "ClassificationMetrics: top-k accuracy needs 1 <= k <= {}, got {}",
                        num_classes, k);
  }
  reset();
}

void ClassificationMetrics::reset() {
  count_ = 0;
  top_k_hits_.assign(options_.top_k.size(), 0);
  confusion_.assign(static_cast<std::size_t>(num_classes_),
                    std::vector<std::int64_t>(static_cast<std::size_t>(num_classes_), 0));
}

void ClassificationMetrics::update(const Tensor& outputs, const Tensor& targets) {
  DESCENT_CHECK_DTYPE(is_floating(outputs.dtype()), "ClassificationMetrics.update: outputs must be floating, got {}",
                      dtype_name(outputs.dtype()));
  const bool binary = outputs.dim() == 1 || (outputs.dim() == 2 && outputs.size(1) == 1 && num_classes_ == 2);
  const std::int64_t n = outputs.dim() >= 1 ? outputs.size(0) : 0;
  const bool outputs_ok = binary ? num_classes_ == 2 : outputs.dim() == 2 && outputs.size(1) == num_classes_;
  // Targets: [N] class indices; binary outputs also take [N, 1] (as binary_cross_entropy wants).
  const bool targets_ok = (targets.dim() == 1 && targets.size(0) == n) ||
                          (binary && targets.dim() == 2 && targets.size(0) == n && targets.size(1) == 1);
  DESCENT_CHECK_SHAPE(outputs_ok && targets_ok,
                      "ClassificationMetrics.update: outputs {} and targets {} do not match {} classes (expected "
                      "outputs [N, {}]{} and targets [N])",
                      outputs.shape(), targets.shape(), num_classes_, num_classes_,
                      num_classes_ == 2 ? " or [N] / [N, 1] for a binary classifier" : "");

  // The true class of every example.
  std::vector<std::int64_t> truth(static_cast<std::size_t>(n));
  with_data(targets, [&](const auto* t) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(t)>>;
    for (std::int64_t i = 0; i < n; ++i) {
      if (binary) {
        if constexpr (std::is_same_v<T, std::int64_t>) {
          DESCENT_CHECK_INDEX(t[i] >= -1 && t[i] <= 1,
                              "ClassificationMetrics.update: binary target {} at {} is not 0/1 or -1/+1", t[i], i);
        }
        truth[static_cast<std::size_t>(i)] = t[i] > 0 ? 1 : 0;
      } else {
        const double v = static_cast<double>(t[i]);
        DESCENT_CHECK_INDEX(v >= 0 && v < static_cast<double>(num_classes_) && v == std::floor(v),
                            "ClassificationMetrics.update: target {} at {} is not a class index in [0, {})", v, i,
                            num_classes_);
        truth[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(v);
      }
    }
  });

  with_data(outputs, [&](const auto* out) {
    if constexpr (!std::is_same_v<std::remove_cv_t<std::remove_pointer_t<decltype(out)>>, std::int64_t>) {
      const std::int64_t c = num_classes_;
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t t = truth[static_cast<std::size_t>(i)];
        std::int64_t predicted;
        std::int64_t rank;  // classes ranked above the true one (ties broken towards lower indices, as argmax)
        if (binary) {
          predicted = out[i] > 0 ? 1 : 0;
          rank = predicted == t ? 0 : 1;
        } else {
          const auto* row = out + i * c;
          predicted = std::max_element(row, row + c) - row;
          rank = 0;
          for (std::int64_t j = 0; j < c; ++j) rank += row[j] > row[t] || (row[j] == row[t] && j < t);
        }
        ++confusion_[static_cast<std::size_t>(t)][static_cast<std::size_t>(predicted)];
        for (std::size_t k = 0; k < options_.top_k.size(); ++k) top_k_hits_[k] += rank < options_.top_k[k];
      }
    }
  });
  count_ += n;
}

double ClassificationMetrics::accuracy() const {
  std::int64_t correct = 0;
  for (std::size_t c = 0; c < confusion_.size(); ++c) correct += confusion_[c][c];
  return ratio(correct, count_);
}

double ClassificationMetrics::top_k_accuracy(std::int64_t k) const {
  const auto it = std::find(options_.top_k.begin(), options_.top_k.end(), k);
  DESCENT_CHECK_VALUE(it != options_.top_k.end(),
                      "ClassificationMetrics.top_k_accuracy: k = {} was not requested (options.top_k = {})", k,
                      options_.top_k);
  return ratio(top_k_hits_[static_cast<std::size_t>(it - options_.top_k.begin())], count_);
}

std::vector<double> ClassificationMetrics::precision() const {
  std::vector<double> out(confusion_.size());
  for (std::size_t c = 0; c < confusion_.size(); ++c) {
    std::int64_t predicted = 0;
    for (const auto& row : confusion_) predicted += row[c];
    out[c] = ratio(confusion_[c][c], predicted);
  }
  return out;
}

std::vector<double> ClassificationMetrics::recall() const {
  std::vector<double> out(confusion_.size());
  for (std::size_t c = 0; c < confusion_.size(); ++c) {
    out[c] = ratio(confusion_[c][c], std::accumulate(confusion_[c].begin(), confusion_[c].end(), std::int64_t{0}));
  }
  return out;
}

std::vector<double> ClassificationMetrics::f1() const {
  // 2 tp / (2 tp + fp + fn): the harmonic mean of precision and recall, 0 when both are 0.
  std::vector<double> out(confusion_.size());
  for (std::size_t c = 0; c < confusion_.size(); ++c) {
    std::int64_t predicted = 0;
    for (const auto& row : confusion_) predicted += row[c];
    const std::int64_t actual = std::accumulate(confusion_[c].begin(), confusion_[c].end(), std::int64_t{0});
    out[c] = ratio(2 * confusion_[c][c], predicted + actual);
  }
  return out;
}

double ClassificationMetrics::macro_f1() const {
  const std::vector<double> f = f1();
  return std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(f.size());
}

std::map<std::string, double> ClassificationMetrics::scalars() const {
  std::map<std::string, double> out{{"accuracy", accuracy()}, {"macro_f1", macro_f1()}};
  for (std::size_t k = 0; k < options_.top_k.size(); ++k) {
    out["top" + std::to_string(options_.top_k[k]) + "_accuracy"] = ratio(top_k_hits_[k], count_);
  }
  return out;
}

// --- regression -----------------------------------------------------------------------------------

void RegressionMetrics::update(const Tensor& predictions, const Tensor& targets) {
  DESCENT_CHECK_DTYPE(is_floating(predictions.dtype()) && is_floating(targets.dtype()),
                      "RegressionMetrics.update: predictions ({}) and targets ({}) must be floating",
                      dtype_name(predictions.dtype()), dtype_name(targets.dtype()));
  auto columns = [](const Tensor& t) -> std::int64_t {
    if (t.dim() == 1) return 1;
    if (t.dim() == 2) return t.size(1);
    return -1;
  };
  const std::int64_t t_count = columns(predictions);
  DESCENT_CHECK_SHAPE(t_count > 0 && columns(targets) == t_count && predictions.size(0) == targets.size(0),
                      "RegressionMetrics.update: predictions {} and targets {} differ (expected [N] or [N, T], "
                      "the same for both)",
                      predictions.shape(), targets.shape());
  const auto t = static_cast<std::size_t>(t_count);
  DESCENT_CHECK_SHAPE(abs_sum_.empty() || abs_sum_.size() == t,
                      "RegressionMetrics.update: predictions {} have {} targets, earlier batches had {}",
                      predictions.shape(), t, abs_sum_.size());
  if (abs_sum_.empty()) {
    abs_sum_.assign(t, 0.0);
    sq_sum_.assign(t, 0.0);
    target_mean_.assign(t, 0.0);
    target_m2_.assign(t, 0.0);
  }
  const std::int64_t n = predictions.size(0);
  with_data(predictions, [&](const auto* p) {
    with_data(targets, [&](const auto* y) {
      for (std::int64_t i = 0; i < n; ++i) {
        // Welford: the targets' variance without the cancellation of sum(y^2) - n mean^2, so a
        // constant target has exactly zero variance.
        const double seen = static_cast<double>(count_ + i + 1);
        for (std::size_t j = 0; j < t; ++j) {
          const double yv = static_cast<double>(y[static_cast<std::size_t>(i) * t + j]);
          const double r = static_cast<double>(p[static_cast<std::size_t>(i) * t + j]) - yv;
          abs_sum_[j] += std::abs(r);
          sq_sum_[j] += r * r;
          const double delta = yv - target_mean_[j];
          target_mean_[j] += delta / seen;
          target_m2_[j] += delta * (yv - target_mean_[j]);
        }
      }
    });
  });
  count_ += n;
}

void RegressionMetrics::reset() {
  count_ = 0;
  abs_sum_.clear();
  sq_sum_.clear();
  target_mean_.clear();
  target_m2_.clear();
}

double RegressionMetrics::mae() const {
  if (count_ == 0) return 0.0;
  return std::accumulate(abs_sum_.begin(), abs_sum_.end(), 0.0) /
         (static_cast<double>(count_) * static_cast<double>(abs_sum_.size()));
}

double RegressionMetrics::mse() const {
  if (count_ == 0) return 0.0;
  return std::accumulate(sq_sum_.begin(), sq_sum_.end(), 0.0) /
         (static_cast<double>(count_) * static_cast<double>(sq_sum_.size()));
}

double RegressionMetrics::rmse() const { return std::sqrt(mse()); }

double RegressionMetrics::r2() const {
  if (count_ == 0) return 0.0;
  double total = 0;
  for (std::size_t j = 0; j < sq_sum_.size(); ++j) {
    if (target_m2_[j] == 0.0) {
      total += sq_sum_[j] == 0.0 ? 1.0 : 0.0;  // constant target, as scikit-learn's r2_score
    } else {
      total += 1.0 - sq_sum_[j] / target_m2_[j];
    }
  }
  return total / static_cast<double>(sq_sum_.size());
}

std::map<std::string, double> RegressionMetrics::scalars() const {
  return {{"mae", mae()}, {"rmse", rmse()}, {"r2", r2()}};
}

}  // namespace descent::train
