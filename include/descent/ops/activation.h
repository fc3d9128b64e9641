#pragma once
// Activation functions and the softmax family, as in torch.nn.functional.

#include <string_view>

#include "descent/core/tensor.h"

namespace descent {

/// max(0, x); the gradient at 0 is 0.
Tensor relu(const Tensor& x);
/// x if x > 0 else negative_slope * x.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
/// x if x > 0 else weight * x, with a learned weight of shape [1] or [C] (C = x.size(1)),
/// broadcast over the channel dimension 1.
Tensor prelu(const Tensor& x, const Tensor& weight);
/// x if x > 0 else alpha * (exp(x) - 1).
Tensor elu(const Tensor& x, double alpha = 1.0);
/// x * Phi(x) with the exact normal CDF, or the tanh approximation with approximate = "tanh".
Tensor gelu(const Tensor& x, std::string_view approximate = "none");
/// 1 / (1 + exp(-x)), computed without overflow for large |x|.
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
/// log(1 + exp(beta * x)) / beta, linear (= x) where beta * x > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
/// exp(x) / sum(exp(x)) along dim, stable for large inputs.
Tensor softmax(const Tensor& x, std::int64_t dim);
/// x - logsumexp(x, dim): finite for logits of any magnitude.
Tensor log_softmax(const Tensor& x, std::int64_t dim);

}  // namespace descent
