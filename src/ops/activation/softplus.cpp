#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct SoftplusBackward final : Node {
  SoftplusBackward(double beta, double threshold) : Node("softplus"), beta(beta), threshold(threshold) {}
  double beta, threshold;
  Tensor x;
  // dy/dx = sigmoid(beta x), or 1 in the linear region beta x > threshold
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, x, "softplus", [b = beta, t = threshold](auto g, auto v) {
      using T = decltype(v);
      const T z = v * static_cast<T>(b);
      if (z > static_cast<T>(t)) return g;
      return g / (T(1) + std::exp(-z));
    })};
  }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor softplus(const Tensor& x, double beta, double threshold) {
  DESCENT_CHECK_VALUE(beta != 0.0, "softplus: beta must be nonzero");
  Tensor y = kernels::map_unary(x, "softplus", [beta, threshold](auto v) {
    using T = decltype(v);
    const T z = v * static_cast<T>(beta);
    return z > static_cast<T>(threshold) ? v : std::log1p(std::exp(z)) / static_cast<T>(beta);
  });
  if (auto node = make_node<SoftplusBackward>({&x}, beta, threshold)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
