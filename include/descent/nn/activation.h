#pragma once
// Activation modules, as torch.nn.ReLU, ... : each wraps the function of the same name in
// descent/ops/activation.h.

#include <cstdint>
#include <optional>
#include <string>

#include "descent/nn/module.h"

namespace descent::nn {

/// max(0, x).
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

struct LeakyReLUOptions {
  double negative_slope = 0.01;
};
/// x if x > 0 else negative_slope * x.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(const LeakyReLUOptions& options = {}) : options_(options) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const LeakyReLUOptions& options() const { return options_; }

 private:
  LeakyReLUOptions options_;
};

struct PReLUOptions {
  /// 1 (one slope shared by all channels) or the number of channels, x.size(1).
  std::int64_t num_parameters = 1;
  double init = 0.25;
  DType dtype = kFloat32;
};
/// x if x > 0 else a * x with a learned slope "weight" of shape [num_parameters] (filled with init).
class PReLU : public Module {
 public:
  explicit PReLU(const PReLUOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const PReLUOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }

 private:
  PReLUOptions options_;
  Tensor weight_;
};

struct ELUOptions {
  double alpha = 1.0;
};
/// x if x > 0 else alpha * (exp(x) - 1).
class ELU : public Module {
 public:
  explicit ELU(const ELUOptions& options = {}) : options_(options) {}
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const ELUOptions& options() const { return options_; }

 private:
  ELUOptions options_;
};

struct GELUOptions {
  std::string approximate = "none";  // "none" (exact) or "tanh"
};
/// x * Phi(x); ValueError for an unknown approximate.
class GELU : public Module {
 public:
  explicit GELU(const GELUOptions& options = {});
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const GELUOptions& options() const { return options_; }

 private:
  GELUOptions options_;
};

/// 1 / (1 + exp(-x)).
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

/// tanh(x).
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

struct SoftmaxOptions {
  /// Required (PyTorch's implicit dim choice is deprecated); ValueError when absent.
  std::optional<std::int64_t> dim{};
};
/// exp(x) / sum(exp(x)) along dim.
class Softmax : public Module {
 public:
  explicit Softmax(const SoftmaxOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const SoftmaxOptions& options() const { return options_; }

 private:
  SoftmaxOptions options_;
};

using LogSoftmaxOptions = SoftmaxOptions;
/// log(softmax(x)) along dim, computed stably.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(const LogSoftmaxOptions& options);
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;
  const LogSoftmaxOptions& options() const { return options_; }

 private:
  LogSoftmaxOptions options_;
};

}  // namespace descent::nn
