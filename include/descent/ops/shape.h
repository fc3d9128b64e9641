#pragma once
// Shape ops, copies and indexing, as in PyTorch. View ops (view, transpose, permute, squeeze,
// unsqueeze, expand, slice, select) share storage with their input; reshape copies only when the
// strides do not allow a view.

#include <vector>

#include "descent/core/tensor.h"

namespace descent {

/// The same elements with a new shape; one dimension may be -1 (inferred).
Tensor reshape(const Tensor& x, const Shape& shape);
/// Like reshape but never copies: throws ShapeError when the strides do not allow it.
Tensor view(const Tensor& x, const Shape& shape);
/// Merges dims start_dim..end_dim into one.
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
/// Reorders dimensions: permute(x, {2, 0, 1}).
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);
/// Removes all size-1 dimensions (or just `dim`, if it has size 1).
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);
/// Inserts a size-1 dimension at dim (in [-ndim-1, ndim]).
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
/// Broadcasts x to `shape` without copying (stride 0); -1 keeps a size. Gradients are summed back.
Tensor expand(const Tensor& x, const Shape& shape);
/// x[..., start:end:step, ...] along dim; start/end are clamped like Python slices, step > 0.
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
/// x[..., index, ...]: removes dimension dim.
Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index);
/// Joins tensors along an existing dimension; all other sizes must agree.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
/// Joins tensors along a new dimension; all shapes must be equal.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
/// Picks entries of dim by a 1-D int64 index: out.size(dim) == index.numel().
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
/// out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims); index is int64 with
/// the same number of dimensions as x and no larger sizes outside dim.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);

/// A contiguous copy that keeps the graph (the gradient passes through unchanged).
Tensor clone(const Tensor& x);
/// x itself when already contiguous, else a contiguous copy.
Tensor contiguous(const Tensor& x);
/// Converts between float32 and float64 (the gradient is converted back).
Tensor to(const Tensor& x, DType dtype);

}  // namespace descent
