#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct SinBackward final : Node {
  SinBackward() : Node("sin") {}
  Tensor x;  // saved input
  // d sin(x)/dx = cos(x), itself differentiable (built from ops).
  std::vector<Tensor> apply(const Tensor& gy) override { return {mul(gy, cos(x))}; }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor sin(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "sin", [](auto v) { return std::sin(v); });
  if (auto node = make_node<SinBackward>({&x})) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
