#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct EluBackward final : Node {
  explicit EluBackward(double alpha) : Node("elu"), alpha(alpha) {}
  double alpha;
  Tensor x;
  // dy/dx = 1 for x > 0, alpha * exp(x) otherwise
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, x, "elu", [a = alpha](auto g, auto v) {
      using T = decltype(v);
      return v > T(0) ? g : g * static_cast<T>(a) * std::exp(v);
    })};
  }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor elu(const Tensor& x, double alpha) {
  Tensor y = kernels::map_unary(x, "elu", [alpha](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : static_cast<T>(alpha) * std::expm1(v);
  });
  if (auto node = make_node<EluBackward>({&x}, alpha)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
