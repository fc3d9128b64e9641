#pragma once
// Reductions over dimensions, as torch.sum, torch.mean, torch.amax, ... `dims` may be negative;
// keepdim keeps reduced dimensions with size 1. An empty `dims` list reduces nothing (PyTorch 1.13
// reduces every dimension for dim=[]; descent keeps that for the overloads without dims, e.g. sum(x)).

#include <vector>

#include "descent/core/tensor.h"

namespace descent {

/// Sum of all elements: a 0-dimensional tensor.
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);
/// Largest element. The gradient is shared evenly by tied maxima (as torch.max(x) does).
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);

/// Values and int64 positions of the maxima (or minima) along one dimension.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
/// torch.max(x, dim): the gradient goes to the first position of each maximum.
ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Largest value over dims; tied maxima share the gradient evenly (torch.amax).
Tensor amax(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);
/// Position (int64) of the first maximum along dim.
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Variance over dims: sum((x - mean)^2) / (N - correction); correction 1 is the unbiased estimate.
Tensor var(const Tensor& x, const std::vector<std::int64_t>& dims, double correction = 1.0,
           bool keepdim = false);
/// log(sum(exp(x))) over dims, computed stably by subtracting the maximum first.
Tensor logsumexp(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim = false);

/// Sums x down to `shape`, the inverse of broadcasting `shape` up to x.shape(): leading dims are
/// summed away and dims where `shape` has 1 are summed with keepdim. Used by the autograd engine
/// to reduce the gradient of a broadcast input.
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace descent
