// binary_cross_entropy on probabilities, with a hand-written backward: PyTorch clamps each log at
// -100 so that p = 0 or 1 gives a finite loss, and its gradient (p - y) / max(p (1 - p), 1e-12)
// stays finite there too, which a composition through clamp(log(p)) would not (0 * inf).

#include <algorithm>
#include <cmath>

#include "descent/autograd/node.h"
#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

namespace {
constexpr std::string_view kOp = "binary_cross_entropy";

template <typename T>
T clamped_log(T v) {
  return std::max(std::log(v), T(-100));
}
template <typename T>
T clamped_log1m(T p) {  // log(1 - p), clamped
  return std::max(std::log1p(-p), T(-100));
}

struct BinaryCrossEntropyBackward final : Node {
  BinaryCrossEntropyBackward() : Node(kOp) {}
  Tensor p, y;  // saved input and target
  // d/dp = (p - y) / max(p (1 - p), 1e-12)   (PyTorch's formula, finite at p = 0 and 1)
  // d/dy = log(1 - p) - log(p), each log clamped at -100 (the derivative of the clamped forward)
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gp, gy;
    if (needs_grad(0)) {
      gp = kernels::map_ternary(g, p, y, kOp, [](auto gv, auto pv, auto yv) {
        using T = decltype(pv);
        // PyTorch's EPSILON is the float 1e-12f (9.99999996e-13) in both dtypes.
        return gv * (pv - yv) / std::max((T(1) - pv) * pv, static_cast<T>(1e-12f));
      });
    }
    if (needs_grad(1)) {
      gy = kernels::map_binary(g, p, kOp, [](auto gv, auto pv) { return gv * (clamped_log1m(pv) - clamped_log(pv)); });
    }
    return {gp, gy};
  }
  void release_saved() override { p = y = Tensor(); }
};

void check_probabilities(const Tensor& probs) {
  const Tensor x = probs.contiguous();
  kernels::dispatch_floating(x.dtype(), kOp, [&]<typename T>() {
    const T* v = x.data_ptr<T>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      DESCENT_CHECK_VALUE(v[i] >= T(0) && v[i] <= T(1),
                          "{}: input must hold probabilities in [0, 1], got {} at element {} (input {}); for logits "
                          "use binary_cross_entropy_with_logits",
                          kOp, v[i], i, x.shape());
    }
  });
}
}  // namespace

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const BinaryCrossEntropyOptions& options) {
  loss_detail::check_same_floating(kOp, probs, target);
  const Tensor weight = loss_detail::check_broadcast_weight(kOp, "weight", options.weight, probs);
  check_probabilities(probs);
  // -(y log p + (1 - y) log(1 - p)) = (y - 1) log(1 - p) - y log p
  Tensor loss = kernels::map_binary(probs, target, kOp, [](auto pv, auto yv) {
    using T = decltype(pv);
    return (yv - T(1)) * clamped_log1m(pv) - yv * clamped_log(pv);
  });
  if (auto node = make_node<BinaryCrossEntropyBackward>({&probs, &target})) {
    node->p = probs.detach();
    node->y = target.detach();
    set_history(loss, std::move(node));
  }
  if (weight.defined()) loss = mul(loss, weight);
  return loss_detail::reduce(loss, options.reduction);
}

}  // namespace descent
