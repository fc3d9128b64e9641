#pragma once
// Batch normalization as one op, as torch.nn.functional.batch_norm.

#include "descent/core/tensor.h"

namespace descent {

/// Normalizes each channel (dim 1) of input [N, C, *]: y = (x - mean) / sqrt(var + eps) * weight
/// + bias (weight and bias [C], optional). With training = true, mean and var are the batch's over
/// every dim but 1 (var biased), and running_mean / running_var (if defined, [C]) are updated IN
/// PLACE towards the batch mean and the UNBIASED batch variance with weight `momentum`. With
/// training = false the running statistics are used (and must be defined). Statistics take two
/// passes over each channel (mean, then squared deviations: stabler than sum of squares), the
/// output one more; backward is one fused kernel giving the input, weight and bias gradients.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

}  // namespace descent
