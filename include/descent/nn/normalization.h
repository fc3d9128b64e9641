#pragma once
// BatchNorm1d, BatchNorm2d and LayerNorm, as their torch.nn namesakes. Batch normalization is the
// batch_norm op (one fused node); LayerNorm is composed of ops (mean, var, sub, div, mul, add).

#include <cstdint>
#include <optional>

#include "descent/nn/module.h"

namespace descent::nn {

struct BatchNormOptions {
  std::int64_t num_features = 0;
  double eps = 1e-5;
  /// Weight of the new batch statistic in the running averages; nullopt means a cumulative
  /// average (factor 1 / num_batches_tracked), as PyTorch's momentum=None.
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
  DType dtype = kFloat32;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

/// What BatchNorm1d and BatchNorm2d share (PyTorch's _BatchNorm): y = (x - mean) / sqrt(var + eps)
/// * weight + bias per channel (dim 1), through the batch_norm op. In training mode (or without
/// running statistics) mean and var are the batch's over every dim but the channels (var
/// biased), and the buffers running_mean and running_var move towards the batch mean and the
/// UNBIASED batch variance: running = (1 - momentum) * running + momentum * batch;
/// num_batches_tracked (int64) counts the updates. In evaluation mode with track_running_stats the
/// running statistics are used. Parameters "weight" (ones) and "bias" (zeros) with affine; buffers
/// "running_mean" (zeros), "running_var" (ones), "num_batches_tracked" (0) with track_running_stats.
class BatchNormBase : public Module {
 public:
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  /// Running statistics back to zeros, ones and 0.
  void reset_running_stats();

  const BatchNormOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

 protected:
  /// `kind` names the class in errors; the input must have one of the two dim counts.
  BatchNormBase(const BatchNormOptions& options, const char* kind, std::int64_t min_dim, std::int64_t max_dim);

 private:
  BatchNormOptions options_;
  std::int64_t min_dim_, max_dim_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

/// Batch normalization of [N, C] or [N, C, L] (statistics over N, or over N and L).
class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(const BatchNormOptions& options) : BatchNormBase(options, "BatchNorm1d", 2, 3) {}
};

/// Batch normalization of images [N, C, H, W], statistics per channel over N, H and W (Ioffe and
/// Szegedy, 2015): after a convolution, every position of a feature map shares its channel's scale.
///
///   BatchNorm2d bn({.num_features = 32});
class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(const BatchNormOptions& options) : BatchNormBase(options, "BatchNorm2d", 4, 4) {}
};

struct LayerNormOptions {
  Shape normalized_shape{};  // the trailing dims normalized together, e.g. {512} or {C, H, W}
  double eps = 1e-5;
  bool elementwise_affine = true;
  bool bias = true;  // with elementwise_affine: learn a bias too (PyTorch 2.1's bias argument)
  DType dtype = kFloat32;
};

/// y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and (biased) var over the last
/// normalized_shape.size() dims of x, whose sizes must equal normalized_shape. Same behaviour in
/// training and evaluation. Parameters "weight" (ones) and "bias" (zeros) of normalized_shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(const LayerNormOptions& options);

  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  const LayerNormOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  LayerNormOptions options_;
  Tensor weight_, bias_;
};

}  // namespace descent::nn
