// mul: y = a * b, elementwise with broadcasting, and y = a * s for a scalar s.

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct MulBackward final : Node {
  MulBackward() : Node("mul") {}
  Tensor a, b;
  // dy/da = b, dy/db = a
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {needs_grad(0) ? mul(gy, b) : Tensor(), needs_grad(1) ? mul(gy, a) : Tensor()};
  }
  void release_saved() override { a = b = Tensor(); }
};

struct MulScalarBackward final : Node {
  explicit MulScalarBackward(double s) : Node("mul"), s(s) {}
  double s;
  std::vector<Tensor> apply(const Tensor& gy) override { return {mul(gy, s)}; }  // dy/da = s
};
}  // namespace

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::map_binary(a, b, "mul", [](auto x, auto z) { return x * z; });
  if (auto node = make_node<MulBackward>({&a, &b})) {
    if (node->needs_grad(1)) node->a = a.detach();
    if (node->needs_grad(0)) node->b = b.detach();
    set_history(y, std::move(node));
  }
  return y;
}

Tensor mul(const Tensor& a, double s) {
  Tensor y = kernels::map_unary(a, "mul", [s](auto x) { return x * static_cast<decltype(x)>(s); });
  if (auto node = make_node<MulScalarBackward>({&a}, s)) set_history(y, std::move(node));
  return y;
}

}  // namespace descent
