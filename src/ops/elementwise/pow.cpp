// pow: y = x ** p for a scalar exponent, and y = x ** e elementwise.

#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct PowScalarBackward final : Node {
  explicit PowScalarBackward(double p) : Node("pow"), p(p) {}
  double p;
  Tensor x;
  // dy/dx = p * x^(p-1)
  std::vector<Tensor> apply(const Tensor& gy) override {
    if (p == 0.0) return {zeros_like(gy)};
    return {mul(gy, mul(pow(x, p - 1.0), p))};
  }
  void release_saved() override { x = Tensor(); }
};

struct PowBackward final : Node {
  PowBackward() : Node("pow") {}
  Tensor x, e, y;
  // dy/dx = e * x^(e-1); dy/de = y * log(x) (taken as 0 where x == 0 and e >= 0, as PyTorch does)
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor gx, ge;
    if (needs_grad(0)) {
      gx = mul(gy, kernels::map_binary(x, e, "pow", [](auto b, auto q) {
                 using T = decltype(b);
                 return q == T(0) ? T(0) : q * std::pow(b, q - T(1));
               }));
    }
    if (needs_grad(1)) {
      ge = mul(gy, kernels::map_binary(x, y, "pow", [](auto b, auto r) {
                 using T = decltype(b);
                 return b == T(0) ? T(0) : r * std::log(b);
               }));
    }
    return {gx, ge};
  }
  void release_saved() override { x = e = y = Tensor(); }
};
}  // namespace

Tensor pow(const Tensor& x, double p) {
  Tensor y;
  if (p == 2.0) {
    y = kernels::map_unary(x, "pow", [](auto v) { return v * v; });
  } else {
    y = kernels::map_unary(x, "pow", [p](auto v) { return std::pow(v, static_cast<decltype(v)>(p)); });
  }
  if (auto node = make_node<PowScalarBackward>({&x}, p)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

Tensor pow(const Tensor& x, const Tensor& e) {
  Tensor y = kernels::map_binary(x, e, "pow", [](auto b, auto q) { return std::pow(b, q); });
  if (auto node = make_node<PowBackward>({&x, &e})) {
    node->x = x.detach();
    node->e = e.detach();
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
