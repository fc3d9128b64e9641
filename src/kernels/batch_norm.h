#pragma once
// Batch-normalization kernels. The input is contiguous and seen as [N, C, S] (S: the product of
// the dims after the channels); every pass works one channel (or, when S = 1, one block of
// adjacent channels) at a time, so the channel's data is still in cache for the next pass.
// Per-channel sums accumulate in double, also for float32 data.

#include <vector>

#include "descent/core/tensor.h"

namespace descent::kernels {

/// Per-channel statistics the forward computes and the backward needs.
struct BatchNormStats {
  std::vector<double> mean;    // [C]
  std::vector<double> invstd;  // [C], 1 / sqrt(var + eps)
  std::vector<double> var;     // [C], biased (filled by the training forward only)
};

/// Training forward: the batch mean and biased variance of each channel (two passes: the mean,
/// then the squared deviations from it), then y = (x - mean) * invstd * w + b in a third pass.
/// weight and bias: [C] or undefined (1 and 0).
Tensor batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, BatchNormStats& stats);

/// y = (x - mean) * invstd * w + b with given statistics (evaluation mode), one pass.
Tensor batch_norm_apply(const Tensor& x, const Tensor& weight, const Tensor& bias, const BatchNormStats& stats);

struct BatchNormGrads {
  Tensor input, weight, bias;  // undefined when not asked for
};

/// Backward of y = (x - mean) * invstd * w + b given gy (contiguous, shape of x). With training,
/// mean and invstd are functions of x (the batch's):
///   gx = w * invstd / M * (M * gy - sum(gy) - xhat * sum(gy * xhat)),
/// otherwise constants: gx = gy * w * invstd. In both, gw = sum(gy * xhat) and gb = sum(gy) (sums
/// over all but the channels, M elements each). One pass for the sums (only when needed), one
/// for gx.
BatchNormGrads batch_norm_backward(const Tensor& x, const Tensor& gy, const Tensor& weight, const BatchNormStats& stats,
                                   bool training, bool want_input, bool want_weight, bool want_bias);

}  // namespace descent::kernels
