#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct SigmoidBackward final : Node {
  SigmoidBackward() : Node("sigmoid") {}
  Tensor y;  // saved output
  // d sigma(x)/dx = sigma(x) (1 - sigma(x))
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, y, "sigmoid", [](auto g, auto s) { return g * s * (decltype(s)(1) - s); })};
  }
  void release_saved() override { y = Tensor(); }
};
}  // namespace

Tensor sigmoid(const Tensor& x) {
  // exp of a non-positive number only: no overflow for large |x|.
  Tensor y = kernels::map_unary(x, "sigmoid", [](auto v) {
    using T = decltype(v);
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  });
  if (auto node = make_node<SigmoidBackward>({&x})) {
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
