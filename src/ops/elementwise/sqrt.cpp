#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct SqrtBackward final : Node {
  SqrtBackward() : Node("sqrt") {}
  Tensor y;  // saved output
  std::vector<Tensor> apply(const Tensor& gy) override { return {div(gy, mul(y, 2.0))}; }  // d sqrt(x)/dx = 1/(2 sqrt(x))
  void release_saved() override { y = Tensor(); }
};
}  // namespace

Tensor sqrt(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "sqrt", [](auto v) { return std::sqrt(v); });
  if (auto node = make_node<SqrtBackward>({&x})) {
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
