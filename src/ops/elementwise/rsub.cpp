// rsub: y = b - x for a scalar b.

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct RsubBackward final : Node {
  RsubBackward() : Node("rsub") {}
  std::vector<Tensor> apply(const Tensor& gy) override { return {neg(gy)}; }  // dy/dx = -1
};
}  // namespace

Tensor rsub(const Tensor& x, double b) {
  Tensor y = kernels::map_unary(x, "rsub", [b](auto v) { return static_cast<decltype(v)>(b) - v; });
  if (auto node = make_node<RsubBackward>({&x})) set_history(y, std::move(node));
  return y;
}

}  // namespace descent
