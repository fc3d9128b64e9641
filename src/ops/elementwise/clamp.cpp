#include <cmath>
#include <limits>

#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "internal/check.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct ClampBackward final : Node {
  ClampBackward(double lo, double hi) : Node("clamp"), lo(lo), hi(hi) {}
  double lo, hi;
  Tensor x;
  // dy/dx = 1 where lo <= x <= hi, else 0 (PyTorch passes the gradient at the bounds)
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, x, "clamp", [lo = lo, hi = hi](auto g, auto v) {
      using T = decltype(v);
      return (v >= static_cast<T>(lo) && v <= static_cast<T>(hi)) ? g : T(0);
    })};
  }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  DESCENT_CHECK_VALUE(min.has_value() || max.has_value(), "clamp: at least one of min and max must be given");
  const double lo = min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = max.value_or(std::numeric_limits<double>::infinity());
  // As torch.clamp: with min > max every element becomes max.
  Tensor y = kernels::map_unary(x, "clamp", [lo, hi](auto v) {
    using T = decltype(v);
    if (std::isnan(v)) return v;
    return std::min(std::max(v, static_cast<T>(lo)), static_cast<T>(hi));
  });
  if (auto node = make_node<ClampBackward>({&x}, lo, hi)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
