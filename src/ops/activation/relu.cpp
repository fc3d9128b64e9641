// relu and leaky_relu.

#include "descent/autograd/node.h"
#include "descent/ops/activation.h"
#include "kernels/elementwise.h"

namespace descent {

namespace {
struct LeakyReluBackward final : Node {
  LeakyReluBackward(std::string_view name, double slope) : Node(name), slope(slope) {}
  double slope;
  bool relu = false;  // relu's rule (PyTorch's threshold_backward) rather than leaky_relu's
  Tensor y;  // saved output: y > 0 exactly where x > 0 (for slope >= 0)
  // dy/dx = 1 for x > 0, slope otherwise (0 at x = 0 for relu, as PyTorch)
  // Both sides are computed and then selected, with no branch: the loops vectorize (a branch on the
  // sign of each element, half of them mispredicted, was 12 % of the MLP's step at batch 1024).
  std::vector<Tensor> apply(const Tensor& gy) override {
    if (relu) {  // as PyTorch: exactly 0 where y <= 0 (even for a non-finite gradient), g elsewhere, NaN included
      return {kernels::map_binary(gy, y, name(), [](auto g, auto v) { return v <= decltype(v)(0) ? decltype(v)(0) : g; })};
    }
    return {kernels::map_binary(gy, y, name(), [s = slope](auto g, auto v) {
      using T = decltype(v);
      const T scaled = g * static_cast<T>(s);
      return v > T(0) ? g : scaled;
    })};
  }
  void release_saved() override { y = Tensor(); }
};

struct LeakyReluInputBackward final : Node {  // negative slopes: decide on the input, not the output
  explicit LeakyReluInputBackward(double slope) : Node("leaky_relu"), slope(slope) {}
  double slope;
  Tensor x;
  std::vector<Tensor> apply(const Tensor& gy) override {
    return {kernels::map_binary(gy, x, name(), [s = slope](auto g, auto v) {
      using T = decltype(v);
      const T scaled = g * static_cast<T>(s);
      return v > T(0) ? g : scaled;
    })};
  }
  void release_saved() override { x = Tensor(); }
};
}  // namespace

Tensor relu(const Tensor& x) {
  Tensor y = kernels::map_unary(x, "relu", [](auto v) {
    using T = decltype(v);
    return (v > T(0) || v != v) ? v : T(0);  // NaN passes through, as in PyTorch
  });
  if (auto node = make_node<LeakyReluBackward>({&x}, "relu", 0.0)) {
    node->relu = true;
    node->y = y.detach();
    set_history(y, std::move(node));
  }
  return y;
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor y = kernels::map_unary(x, "leaky_relu", [s = negative_slope](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : v * static_cast<T>(s);
  });
  if (negative_slope >= 0) {
    if (auto node = make_node<LeakyReluBackward>({&x}, "leaky_relu", negative_slope)) {
      node->y = y.detach();
      set_history(y, std::move(node));
    }
  } else if (auto node = make_node<LeakyReluInputBackward>({&x}, negative_slope)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

}  // namespace descent
