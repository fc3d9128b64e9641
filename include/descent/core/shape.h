#pragma once
// Shapes and strides are vectors of int64, as in PyTorch (sizes and strides in elements), held
// inline up to six dimensions (descent/core/dim_vector.h).

#include <cstdint>
#include <string>
#include <string_view>

#include "descent/core/dim_vector.h"

namespace descent {

using Shape = DimVector;
using Strides = DimVector;

/// Number of elements of a shape; 1 for the scalar shape [].
inline std::int64_t numel(const Shape& shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) n *= s;
  return n;
}

/// "[2, 3]"; "[]" for a scalar.
std::string to_string(const Shape& shape);

/// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

/// The NumPy broadcast of two shapes; throws ShapeError naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

/// Maps a possibly negative dim into [0, ndim); throws IndexError naming `op`.
std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, std::string_view op);

}  // namespace descent
