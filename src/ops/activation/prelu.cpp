// prelu: y = x if x > 0 else w * x, with w of shape [1] or [C] broadcast over dim 1.

#include "descent/autograd/grad_mode.h"
#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
// The weight reshaped so that it broadcasts against x along dim 1: [C] -> [C, 1, ..., 1].
Tensor channel_view(const Tensor& weight, const Tensor& x) {
  if (weight.numel() == 1 || x.dim() < 2) return reshape(weight, {});
  Shape shape(x.dim() - 1, 1);
  shape[0] = weight.numel();
  return reshape(weight, shape);
}

struct PreluBackward final : Node {
  PreluBackward() : Node("prelu") {}
  Tensor x, w;  // w already in its broadcast view
  Shape weight_shape;
  // dy/dx = 1 if x > 0 else w;  dy/dw = 0 if x > 0 else x (summed over everything but the channel)
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor gx, gw;
    if (needs_grad(0)) {
      gx = kernels::map_ternary(gy, x, w, "prelu", [](auto g, auto v, auto s) {
        using T = decltype(v);
        return v > T(0) ? g : g * s;
      });
    }
    if (needs_grad(1)) {
      Tensor contrib = kernels::map_binary(gy, x, "prelu", [](auto g, auto v) {
        using T = decltype(v);
        return v > T(0) ? T(0) : g * v;
      });
      gw = reshape(sum_to(contrib, w.shape()), weight_shape);
    }
    return {gx, gw};
  }
  void release_saved() override { x = w = Tensor(); }
};
}  // namespace

Tensor prelu(const Tensor& x, const Tensor& weight) {
  kernels::check_same_dtype(x, weight, "prelu");
  const std::int64_t channels = x.dim() >= 2 ? x.shape()[1] : 1;
  DESCENT_CHECK_SHAPE(weight.dim() <= 1 && (weight.numel() == 1 || weight.numel() == channels),
                      "prelu: weight of shape {} must have 1 element or one per channel ({}) of input shape {}",
                      weight.shape(), channels, x.shape());
  Tensor w;
  {
    NoGradGuard no_grad;
    w = channel_view(weight.detach(), x);
  }
  Tensor y = kernels::map_binary(x, w, "prelu", [](auto v, auto s) {
    using T = decltype(v);
    return v > T(0) ? v : v * s;
  });
  if (auto node = make_node<PreluBackward>({&x, &weight})) {
    node->x = x.detach();
    node->w = w;
    node->weight_shape = weight.shape();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
