// div: y = a / b with broadcasting; y = a / s; and rdiv y = s / a.

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct DivBackward final : Node {
  DivBackward() : Node("div") {}
  Tensor a, b;
  // dy/da = 1 / b, dy/db = -a / b^2
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor ga, gb;
    if (needs_grad(0)) ga = div(gy, b);
    if (needs_grad(1)) gb = neg(div(mul(gy, a), mul(b, b)));
    return {ga, gb};
  }
  void release_saved() override { a = b = Tensor(); }
};

struct DivScalarBackward final : Node {
  explicit DivScalarBackward(double s) : Node("div"), s(s) {}
  double s;
  std::vector<Tensor> apply(const Tensor& gy) override { return {div(gy, s)}; }  // dy/da = 1 / s
};

struct RdivBackward final : Node {
  RdivBackward() : Node("rdiv") {}
  Tensor x, y;
  std::vector<Tensor> apply(const Tensor& gy) override { return {neg(mul(gy, div(y, x)))}; }  // d(s/x)/dx = -s/x^2 = -y/x
  void release_saved() override { x = y = Tensor(); }
};
}  // namespace

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::map_binary(a, b, "div", [](auto x, auto z) { return x / z; });
  if (auto node = make_node<DivBackward>({&a, &b})) {
    if (node->needs_grad(1)) node->a = a.detach();
    node->b = b.detach();
    set_history(y, std::move(node));
  }
  return y;
}

Tensor div(const Tensor& a, double s) {
  Tensor y = kernels::map_unary(a, "div", [s](auto v) { return v / static_cast<decltype(v)>(s); });
  if (auto node = make_node<DivScalarBackward>({&a}, s)) set_history(y, std::move(node));
  return y;
}

Tensor rdiv(const Tensor& x, double s) {
  Tensor y = kernels::map_unary(x, "rdiv", [s](auto v) { return static_cast<decltype(v)>(s) / v; });
  if (auto node = make_node<RdivBackward>({&x})) {
    node->x = x.detach();
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
