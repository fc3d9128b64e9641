#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct AbsBackward final : Node {
  AbsBackward() : Node("abs") {}
  Tensor x;
  // d|x|/dx = sign(x), 0 at x = 0
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, x, "abs", [](auto g, auto v) {
      using T = decltype(v);
      return v > T(0) ? g : (v < T(0) ? -g : T(0));
    })};
  }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor abs(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "abs", [](auto v) { return std::abs(v); });
  if (auto node = make_node<AbsBackward>({&x})) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
