// mse_loss: mean (or sum) of (input - target)^2. With a reduction it is one op with one node, as
// PyTorch's (the composed sub, square, sum, divide made four nodes and a dozen tensors: most of a
// small network's training step); Reduction::None stays composed of differentiable ops.

#include "descent/autograd/node.h"
#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

namespace {
struct MseLossBackward final : Node {
  MseLossBackward() : Node("mse_loss") {}
  Tensor input, target;  // contiguous, same shape and dtype
  double scale = 2.0;    // d loss / d (input - target) = scale * (input - target): 2 / n for the mean, 2 for the sum
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor g_input = needs_grad(0) ? empty(input.shape(), input.dtype()) : Tensor();
    Tensor g_target = needs_grad(1) ? empty(target.shape(), target.dtype()) : Tensor();
    kernels::dispatch_floating(input.dtype(), "mse_loss", [&]<typename T>() {
      const T s = static_cast<T>(scale * static_cast<double>(gy.data_ptr<T>()[0]));
      const T* x = input.data_ptr<T>();
      const T* y = target.data_ptr<T>();
      T* gi = g_input.defined() ? g_input.data_ptr<T>() : nullptr;
      T* gt = g_target.defined() ? g_target.data_ptr<T>() : nullptr;
      const std::int64_t n = input.numel();
      if (gi) {
        for (std::int64_t i = 0; i < n; ++i) gi[i] = s * (x[i] - y[i]);
      }
      if (gt) {
        for (std::int64_t i = 0; i < n; ++i) gt[i] = -(s * (x[i] - y[i]));
      }
    });
    return {g_input, g_target};
  }
  void release_saved() override { input = target = Tensor(); }
};
}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  loss_detail::check_same_floating("mse_loss", input, target);
  if (reduction == Reduction::None) {
    const Tensor d = sub(input, target);
    return mul(d, d);
  }
  const Tensor x = input.is_contiguous() ? input : kernels::contiguous_copy(input);
  const Tensor y = target.is_contiguous() ? target : kernels::contiguous_copy(target);
  const std::int64_t n = x.numel();
  Tensor loss = empty({}, x.dtype());
  kernels::dispatch_floating(x.dtype(), "mse_loss", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    const T* yp = y.data_ptr<T>();
    // Squares in T (as the composed ops), summed in order in double: float32 sums of long
    // vectors would otherwise lose digits.
    double acc = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      const T d = xp[i] - yp[i];
      acc += static_cast<double>(d * d);
    }
    // The mean of no elements is NaN, as in PyTorch.
    loss.data_ptr<T>()[0] = static_cast<T>(reduction == Reduction::Mean ? acc / static_cast<double>(n) : acc);
  });
  if (auto node = make_node<MseLossBackward>({&input, &target})) {
    node->input = x;
    node->target = y;
    node->scale = reduction == Reduction::Mean ? 2.0 / static_cast<double>(n) : 2.0;
    set_history(loss, std::move(node));
  }
  return loss;
}

}  // namespace descent
