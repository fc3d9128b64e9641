#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct NegBackward final : Node {
  NegBackward() : Node("neg") {}
  std::vector<Tensor> apply(const Tensor& gy) override { return {neg(gy)}; }  // dy/dx = -1
};
}  // namespace

Tensor neg(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "neg", [](auto v) { return -v; });
  if (auto node = make_node<NegBackward>({&x})) set_history(y, std::move(node));
  return y;
}

}  // namespace descent
