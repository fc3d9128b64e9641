// add and sub: y = a + alpha * b (sub is alpha = -1).

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct AddBackward final : Node {
  explicit AddBackward(double alpha) : Node(alpha == 1.0 ? "add" : "sub"), alpha(alpha) {}
  double alpha;
  // dy/da = 1, dy/db = alpha; the engine sums broadcast dims away.
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {gy, needs_grad(1) ? (alpha == 1.0 ? gy : mul(gy, alpha)) : Tensor()};
  }
};

struct AddScalarBackward final : Node {
  AddScalarBackward() : Node("add") {}
  std::vector<Tensor> apply(const Tensor& gy) override { return {gy}; }  // dy/dx = 1
};

Tensor add_scaled(const Tensor& a, const Tensor& b, double alpha, std::string_view op) {
  Tensor y;
  if (alpha == 1.0) {
    y = kernels::map_binary(a, b, op, [](auto x, auto z) { return x + z; });
  } else {
    y = kernels::map_binary(a, b, op, [alpha](auto x, auto z) {
      using T = decltype(x);
      return x + static_cast<T>(alpha) * z;
    });
  }
  if (auto node = make_node<AddBackward>({&a, &b}, alpha)) set_history(y, std::move(node));
  return y;
}

Tensor add_scalar(const Tensor& a, double b, std::string_view op) {
  Tensor y = kernels::map_unary(a, op, [b](auto x) { return x + static_cast<decltype(x)>(b); });
  if (auto node = make_node<AddScalarBackward>({&a})) set_history(y, std::move(node));
  return y;
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b, double alpha) { return add_scaled(a, b, alpha, "add"); }
Tensor sub(const Tensor& a, const Tensor& b, double alpha) { return add_scaled(a, b, -alpha, "sub"); }
Tensor add(const Tensor& a, double b) { return add_scalar(a, b, "add"); }
Tensor sub(const Tensor& a, double b) { return add_scalar(a, -b, "sub"); }

}  // namespace descent
