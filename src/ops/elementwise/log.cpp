#include <cmath>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct LogBackward final : Node {
  LogBackward() : Node("log") {}
  Tensor x;
  std::vector<Tensor> apply(const Tensor& gy) override { return {div(gy, x)}; }  // d ln x/dx = 1/x
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor log(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "log", [](auto v) { return std::log(v); });
  if (auto node = make_node<LogBackward>({&x})) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
