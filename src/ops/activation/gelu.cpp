// gelu: x * Phi(x), exact (erf) or with PyTorch's tanh approximation.

#include <cmath>
#include <numbers>

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
constexpr double kSqrt1_2 = 0.70710678118654752440;   // 1 / sqrt(2)
constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kCubic = 0.044715;

struct GeluBackward final : Node {
  explicit GeluBackward(bool tanh_approx) : Node("gelu"), tanh_approx(tanh_approx) {}
  bool tanh_approx;
  Tensor x;
  std::vector<Tensor> apply(const Tensor& gy) override {
    if (!tanh_approx) {
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      return {kernels::map_binary(gy, x, "gelu", [](auto g, auto v) {
        using T = decltype(v);
        const T cdf = T(0.5) * (T(1) + std::erf(v * T(kSqrt1_2)));
        const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v);
        return g * (cdf + v * pdf);
      })};
    }
    // y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3):
    // dy/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    return {kernels::map_binary(gy, x, "gelu", [](auto g, auto v) {
      using T = decltype(v);
      const T t = std::tanh(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v));
      const T du = T(kSqrt2OverPi) * (T(1) + T(3 * kCubic) * v * v);
      return g * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * du);
    })};
  }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor gelu(const Tensor& x, std::string_view approximate) {
  DESCENT_CHECK_VALUE(approximate == "none" || approximate == "tanh",
                      "gelu: approximate must be \"none\" or \"tanh\", got \"{}\"", approximate);
  const bool tanh_approx = approximate == "tanh";
  Tensor y = tanh_approx ? kernels::map_unary(x, "gelu", [](auto v) {
    using T = decltype(v);
    return T(0.5) * v * (T(1) + std::tanh(T(kSqrt2OverPi) * (v + T(kCubic) * v * v * v)));
  })
                         : kernels::map_unary(x, "gelu", [](auto v) {
                             using T = decltype(v);
                             return v * T(0.5) * (T(1) + std::erf(v * T(kSqrt1_2)));
                           });
  if (auto node = make_node<GeluBackward>({&x}, tanh_approx)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
