#pragma once
// Reduction kernels. Every reduction is brought to the layout [outer, R, inner] over contiguous
// data (reduced dims adjacent), so the loops run with unit stride: inner == 1 reduces rows,
// inner > 1 accumulates whole rows into the output (vectorized), e.g. a bias gradient.

#include <cstdint>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::kernels {

struct ReduceLayout {
  Tensor input;  // contiguous, with the reduced dims adjacent
  std::int64_t outer = 1, reduced = 1, inner = 1;
  Shape kept_shape;  // output shape with keepdim (reduced dims set to 1)
};

/// Normalizes dims (sorted, unique, each in range) for a tensor of `ndim` dims; `op` names errors.
std::vector<std::int64_t> normalize_dims(const std::vector<std::int64_t>& dims, std::int64_t ndim,
                                         std::string_view op);

/// Lays x out for a reduction over the (normalized) dims, copying only when it must.
ReduceLayout reduce_layout(const Tensor& x, const std::vector<std::int64_t>& dims);

/// The output shape without keepdim.
Shape squeeze_dims(const Shape& kept, const std::vector<std::int64_t>& dims);

enum class ReduceKind { Sum, Max, Min };

/// Sum / max / min over dims, result in the kept (keepdim) shape.
Tensor reduce(const Tensor& x, const std::vector<std::int64_t>& dims, ReduceKind kind, std::string_view op);

/// Values and int64 indices of the first max (or min) along one normalized dim, keepdim shape.
std::pair<Tensor, Tensor> reduce_arg(const Tensor& x, std::int64_t dim, bool max, std::string_view op);

}  // namespace descent::kernels
