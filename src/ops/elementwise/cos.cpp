#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct CosBackward final : Node {
  CosBackward() : Node("cos") {}
  Tensor x;  // saved input
  // d cos(x)/dx = -sin(x), itself differentiable (built from ops).
  std::vector<Tensor> apply(const Tensor& gy) override { return {mul(gy, neg(sin(x)))}; }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor cos(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "cos", [](auto v) { return std::cos(v); });
  if (auto node = make_node<CosBackward>({&x})) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
