#pragma once
// The closed-form least-squares solution of linear regression, to set next to what gradient
// descent found: theta = (X^T X + lambda I)^-1 X^T y with a column of ones for the bias, solved
// per target column by a Cholesky factorization in double. lambda matches the loss descent trains
// (mse averaged over N * T values plus 0.5 * l2 * |w|^2, the bias not penalized):
// lambda = N * T * l2 / 2 on the weights' diagonal.

#include <optional>
#include <string>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::cli {

struct LeastSquares {
  std::vector<std::vector<double>> weight;  // [targets][features]
  std::vector<double> bias;                 // [targets]
  double loss = 0;                          // the training loss (mse + L2 penalty) at the solution
};

/// inputs [N, D] and targets [N, T] (or [N]), float32 or float64; l2 >= 0. Empty when the normal
/// equations are singular (collinear features and l2 = 0).
std::optional<LeastSquares> least_squares(const Tensor& inputs, const Tensor& targets, double l2);

}  // namespace descent::cli
