#pragma once
// In-place writes for the nn layer: parameters and buffers keep their storage (and every handle to
// them) while their values change. The one place where nn reaches a kernel.

#include <string>

#include "descent/core/tensor.h"

namespace descent::nn::detail {

/// dst = src elementwise (src broadcast to dst's shape, converted to dst's dtype), written into
/// dst's storage; records no graph.
void assign(const Tensor& dst, const Tensor& src);

/// Replaces the contents of a tensor with a float conversion of itself, in place: the same
/// TensorImpl now holds dtype data (its gradient is converted too). No-op for int64 tensors.
void convert_in_place(const Tensor& t, DType dtype);

/// Python's repr of a float: "0.1", "1e-05", "1.0" (fmt's shortest form, with ".0" added to
/// integral values), for extra_repr strings that read like PyTorch's.
std::string py_float(double value);

}  // namespace descent::nn::detail
