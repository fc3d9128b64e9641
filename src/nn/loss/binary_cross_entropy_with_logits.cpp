// binary_cross_entropy_with_logits, with a hand-written node: the loss is computed in the stable
// form max(x, 0) - x y + log1p(exp(-|x|)) (no exp of a positive number, finite for |x| = 1e4 in
// float32), and the gradient is sigmoid(x) - y exactly, also at x = 0 (a composition through
// relu and abs would get the kink at 0 wrong).
//
// With pos_weight w+ (PyTorch's definition): loss = (1 - y) x + (1 + (w+ - 1) y) softplus(-x),
//   d/dx = (w+ y + 1 - y) sigmoid(x) - w+ y,   d/dy = -x + (w+ - 1) softplus(-x).

#include <cmath>

#include "descent/autograd/node.h"
#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "kernels/elementwise.h"
#include "nn/loss/common.h"

namespace descent {

namespace {
constexpr std::string_view kOp = "binary_cross_entropy_with_logits";

template <typename T>
T stable_sigmoid(T v) {
  if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
  const T e = std::exp(v);
  return e / (T(1) + e);
}
template <typename T>
T softplus_neg(T v) {  // log(1 + exp(-v)), stable
  return std::max(-v, T(0)) + std::log1p(std::exp(-std::abs(v)));
}

struct BinaryCrossEntropyWithLogitsBackward final : Node {
  BinaryCrossEntropyWithLogitsBackward() : Node(kOp) {}
  Tensor x, y, pos_weight;  // saved input, target and (optional) pos_weight
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor gx, gy;
    if (needs_grad(0)) {
      if (pos_weight.defined()) {
        const Tensor d = kernels::map_ternary(x, y, pos_weight, kOp, [](auto xv, auto yv, auto wv) {
          using T = decltype(xv);
          return (wv * yv + T(1) - yv) * stable_sigmoid(xv) - wv * yv;
        });
        gx = mul(g, d);
      } else {
        gx = kernels::map_ternary(g, x, y, kOp, [](auto gv, auto xv, auto yv) { return gv * (stable_sigmoid(xv) - yv); });
      }
    }
    if (needs_grad(1)) {
      if (pos_weight.defined()) {
        gy = kernels::map_ternary(g, x, pos_weight, kOp, [](auto gv, auto xv, auto wv) {
          using T = decltype(xv);
          return gv * ((wv - T(1)) * softplus_neg(xv) - xv);
        });
      } else {
        gy = kernels::map_binary(g, x, kOp, [](auto gv, auto xv) { return -gv * xv; });
      }
    }
    return {gx, gy};
  }
  void release_saved() override { x = y = pos_weight = Tensor(); }
};
}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options) {
  loss_detail::check_same_floating(kOp, logits, target);
  const Tensor weight = loss_detail::check_broadcast_weight(kOp, "weight", options.weight, logits);
  const Tensor pos_weight = loss_detail::check_broadcast_weight(kOp, "pos_weight", options.pos_weight, logits);
  Tensor loss;
  if (pos_weight.defined()) {
    loss = kernels::map_ternary(logits, target, pos_weight, kOp, [](auto xv, auto yv, auto wv) {
      using T = decltype(xv);
      return (T(1) - yv) * xv + (T(1) + (wv - T(1)) * yv) * softplus_neg(xv);
    });
  } else {
    loss = kernels::map_binary(logits, target, kOp, [](auto xv, auto yv) {
      using T = decltype(xv);
      return std::max(xv, T(0)) - xv * yv + std::log1p(std::exp(-std::abs(xv)));
    });
  }
  if (auto node = make_node<BinaryCrossEntropyWithLogitsBackward>({&logits, &target})) {
    node->x = logits.detach();
    node->y = target.detach();
    node->pos_weight = pos_weight;
    set_history(loss, std::move(node));
  }
  if (weight.defined()) loss = mul(loss, weight);
  return loss_detail::reduce(loss, options.reduction);
}

}  // namespace descent
