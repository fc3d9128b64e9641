// batch_norm as one node: composed of mean, var, sub, div, mul and add it would take about ten
// passes over the activations and keep as many temporaries alive for backward; fused, the forward
// reads the input three times per channel (while the channel is in cache) and writes the output
// once, and the backward is two passes.

#include "kernels/batch_norm.h"

#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/normalization.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct BatchNormBackward final : Node {
  BatchNormBackward() : Node("batch_norm") {}
  Tensor x;       // the contiguous input
  Tensor weight;  // [C] or undefined (only when the input gradient is needed)
  kernels::BatchNormStats stats;
  bool training = false;
  std::vector<Tensor> apply(const Tensor& gy_in) override {
    const Tensor gy = gy_in.is_contiguous() ? gy_in : kernels::contiguous_copy(gy_in);
    kernels::BatchNormGrads g =
        kernels::batch_norm_backward(x, gy, weight, stats, training, needs_grad(0), needs_grad(1), needs_grad(2));
    return {g.input, g.weight, g.bias};
  }
  void release_saved() override {
    x = weight = Tensor();
    stats = {};
  }
};

// A per-channel tensor (weight, bias, running statistic), if given, must be [C] of x's dtype.
void check_channel_tensor(const Tensor& t, const char* what, const Tensor& x) {
  if (!t.defined()) return;
  DESCENT_CHECK_SHAPE(t.dim() == 1 && t.size(0) == x.size(1),
                      "batch_norm: {} of shape {} does not match the {} channels of the input of shape {} "
                      "(expected [{}])",
                      what, t.shape(), x.size(1), x.shape(), x.size(1));
  DESCENT_CHECK_DTYPE(t.dtype() == x.dtype(), "batch_norm: {} of dtype {} but the input is {}; convert one with .to()",
                      what, dtype_name(t.dtype()), dtype_name(x.dtype()));
}

// The data of t (no graph), contiguous as the kernels read it; undefined stays undefined.
Tensor contiguous_data(const Tensor& t) {
  if (!t.defined()) return t;
  return t.is_contiguous() ? t.detach() : kernels::contiguous_copy(t);
}

// running = (1 - momentum) * running + momentum * batch, written in place (no graph).
void update_running(const Tensor& running, const std::vector<double>& batch, double scale, double momentum) {
  if (!running.defined()) return;
  kernels::dispatch_floating(running.dtype(), "batch_norm", [&]<typename T>() {
    T* p = running.data_ptr<T>();
    const std::int64_t stride = running.strides()[0];
    for (std::size_t c = 0; c < batch.size(); ++c) {
      T& r = p[static_cast<std::int64_t>(c) * stride];
      r = static_cast<T>((1.0 - momentum) * static_cast<double>(r) + momentum * batch[c] * scale);
    }
  });
}
}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  DESCENT_CHECK_VALUE(input.defined(), "batch_norm: the input is an undefined tensor");
  DESCENT_CHECK_SHAPE(input.dim() >= 2, "batch_norm: expected an input of shape [N, C, *] (2 or more dims), got {}",
                      input.shape());
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "batch_norm: expected a floating input, got {}",
                      dtype_name(input.dtype()));
  check_channel_tensor(weight, "weight", input);
  check_channel_tensor(bias, "bias", input);
  check_channel_tensor(running_mean, "running_mean", input);
  check_channel_tensor(running_var, "running_var", input);
  DESCENT_CHECK_VALUE(running_mean.defined() == running_var.defined(),
                      "batch_norm: running_mean and running_var must be both given or both undefined");
  std::int64_t per_channel = input.size(0);  // M = N times the spatial size (as PyTorch, also for C = 0)
  for (std::int64_t d = 2; d < input.dim(); ++d) per_channel *= input.size(d);
  DESCENT_CHECK_VALUE(!training || per_channel > 1,
                      "batch_norm: expected more than 1 value per channel when training, got input of shape {}",
                      input.shape());
  DESCENT_CHECK_VALUE(training || running_mean.defined(),
                      "batch_norm: running_mean and running_var must be given in evaluation mode (training = false)");

  const Tensor x = contiguous_data(input);
  const Tensor w = contiguous_data(weight);
  const Tensor b = contiguous_data(bias);
  kernels::BatchNormStats stats;
  Tensor y;
  if (training) {
    y = kernels::batch_norm_train(x, w, b, eps, stats);
    // The running variance takes the unbiased batch variance (as PyTorch's), the output the biased.
    const double n = static_cast<double>(per_channel);
    update_running(running_mean, stats.mean, 1.0, momentum);
    update_running(running_var, stats.var, n / (n - 1.0), momentum);
  } else {
    const std::vector<double> mean = running_mean.to_vector<double>();
    const std::vector<double> var = running_var.to_vector<double>();
    stats.mean = mean;
    stats.invstd.resize(var.size());
    for (std::size_t k = 0; k < var.size(); ++k) stats.invstd[k] = 1.0 / std::sqrt(var[k] + eps);
    y = kernels::batch_norm_apply(x, w, b, stats);
  }

  if (auto node = make_node<BatchNormBackward>({&input, &weight, &bias})) {
    node->x = x;
    if (node->needs_grad(0)) node->weight = w;
    stats.var.clear();
    node->stats = std::move(stats);
    node->training = training;
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
