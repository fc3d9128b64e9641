#pragma once
// Shapes and strides are plain vectors of int64, as in PyTorch (sizes and strides in elements).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace descent {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

/// Number of elements of a shape; 1 for the scalar shape [].
std::int64_t numel(const Shape& shape);

/// "[2, 3]"; "[]" for a scalar.
std::string to_string(const Shape& shape);

/// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

/// The NumPy broadcast of two shapes; throws ShapeError naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

/// Maps a possibly negative dim into [0, ndim); throws IndexError naming `op`.
std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, std::string_view op);

}  // namespace descent
