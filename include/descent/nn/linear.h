#pragma once
// Linear, Flatten and Identity, as torch.nn.Linear, torch.nn.Flatten and torch.nn.Identity.

#include <cstdint>

#include "descent/core/generator.h"
#include "descent/nn/module.h"

namespace descent::nn {

struct LinearOptions {
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool bias = true;
  DType dtype = kFloat32;
};

/// y = x W^T + b (the linear op) for x of shape [..., in_features]; y is [..., out_features].
/// Parameters "weight" [out_features, in_features] and, with bias, "bias" [out_features],
/// initialized as PyTorch does: W ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)),
/// and b ~ U(-1/sqrt(in), 1/sqrt(in)), drawn from the default generator or the one given.
///
///   Linear fc({.in_features = 784, .out_features = 128});
///   Tensor y = fc(x);  // [32, 784] -> [32, 128]
class Linear : public Module {
 public:
  explicit Linear(const LinearOptions& options);
  Linear(const LinearOptions& options, Generator& generator);

  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  /// Draws new weights (and bias) with the default initialization.
  void reset_parameters(Generator& generator = default_generator());

  const LinearOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }
  /// Undefined without bias.
  const Tensor& bias() const { return bias_; }

 private:
  LinearOptions options_;
  Tensor weight_, bias_;
};

struct FlattenOptions {
  std::int64_t start_dim = 1;
  std::int64_t end_dim = -1;
};

/// Merges dims start_dim..end_dim into one (a view when the strides allow): [N, C, H, W] ->
/// [N, C*H*W] with the defaults, which keep the batch dimension.
class Flatten : public Module {
 public:
  explicit Flatten(const FlattenOptions& options = {}) : options_(options) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const FlattenOptions& options() const { return options_; }

 private:
  FlattenOptions options_;
};

/// Returns its input (the same tensor): a placeholder where a layer is optional.
class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input; }
};

}  // namespace descent::nn
