#pragma once
// Shared by the view ops: a new tensor over x's storage with other shape, strides and offset.

#include "descent/core/tensor.h"

namespace descent::detail {

inline Tensor make_view(const Tensor& x, Shape shape, Strides strides, std::int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = x.dtype();
  return Tensor(std::move(impl));
}

}  // namespace descent::detail
