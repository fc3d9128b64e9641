#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct TanhBackward final : Node {
  TanhBackward() : Node("tanh") {}
  Tensor y;  // saved output
  // d tanh(x)/dx = 1 - tanh(x)^2
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, y, "tanh", [](auto g, auto t) { return g * (decltype(t)(1) - t * t); })};
  }
  void release_saved() override { y = Tensor(); }
};
}  // namespace

Tensor tanh(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "tanh", [](auto v) { return std::tanh(v); });
  if (auto node = make_node<TanhBackward>({&x})) {
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
