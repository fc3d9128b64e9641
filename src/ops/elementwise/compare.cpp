// Comparisons: 1 where the relation holds, else 0, in a's dtype. Not differentiable.

#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
template <typename Rel>
Tensor compare(const Tensor& a, const Tensor& b, std::string_view op, Rel rel) {
  return kernels::map_binary(a.detach(), b.detach(), op, [rel](auto x, auto z) {
    using T = decltype(x);
    return rel(x, z) ? T(1) : T(0);
  });
}
template <typename Rel>
Tensor compare_scalar(const Tensor& a, double s, std::string_view op, Rel rel) {
  return kernels::map_unary(a.detach(), op, [rel, s](auto x) {
    using T = decltype(x);
    return rel(x, static_cast<T>(s)) ? T(1) : T(0);
  });
}
}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, "eq", [](auto x, auto z) { return x == z; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(a, b, "gt", [](auto x, auto z) { return x > z; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(a, b, "lt", [](auto x, auto z) { return x < z; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(a, b, "ge", [](auto x, auto z) { return x >= z; }); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(a, b, "le", [](auto x, auto z) { return x <= z; }); }
Tensor gt(const Tensor& a, double s) { return compare_scalar(a, s, "gt", [](auto x, auto z) { return x > z; }); }
Tensor lt(const Tensor& a, double s) { return compare_scalar(a, s, "lt", [](auto x, auto z) { return x < z; }); }

}  // namespace descent
