// where: y = cond ? a : b, with cond, a and b broadcast together.

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/shape.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct WhereBackward final : Node {
  WhereBackward() : Node("where") {}
  Tensor cond;  // as the floating dtype of a and b
  // dy/da = cond, dy/db = 1 - cond
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor ga, gb;
    if (needs_grad(1)) ga = kernels::map_binary(gy, cond, "where", [](auto g, auto c) { return c != 0 ? g : decltype(g)(0); });
    if (needs_grad(2)) gb = kernels::map_binary(gy, cond, "where", [](auto g, auto c) { return c != 0 ? decltype(g)(0) : g; });
    return {Tensor(), ga, gb};
  }
  void release_saved() override { cond = Tensor(); }
};
}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Tensor c = cond.dtype() == a.dtype() ? cond.detach() : to(cond.detach(), a.dtype());
  Tensor y = kernels::map_ternary(c, a, b, "where", [](auto k, auto x, auto z) { return k != 0 ? x : z; });
  const Tensor no_grad_cond = cond.detach();
  if (auto node = make_node<WhereBackward>({&no_grad_cond, &a, &b})) {
    node->cond = c;
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
