#pragma once
// The sink of a leaf's gradient: adds what arrives into the leaf's .grad().

#include "descent/autograd/node.h"

namespace descent::detail {

struct AccumulateGrad final : Node {
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : Node("AccumulateGrad"), leaf(std::move(leaf)) {}
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  bool reusable() const override { return true; }
  std::shared_ptr<TensorImpl> leaf;  // strong: the graph keeps its parameters alive, as PyTorch's does
};

}  // namespace descent::detail
