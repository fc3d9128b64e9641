#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct ExpBackward final : Node {
  ExpBackward() : Node("exp") {}
  Tensor y;  // saved output
  std::vector<Tensor> apply(const Tensor& gy) override { return {mul(gy, y)}; }  // d e^x/dx = e^x
  void release_saved() override { y = Tensor(); }
};
}  // namespace

Tensor exp(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "exp", [](auto v) { return std::exp(v); });
  if (auto node = make_node<ExpBackward>({&x})) {
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
