#pragma once
// Checks shared by the layers: errors name the layer as it prints ("Linear(in_features=...)").

#include "descent/nn/module.h"
#include "internal/check.h"

namespace descent::nn::detail {

/// The input must be defined and share the dtype of the layer's parameter `param` (if defined).
inline void check_input(const Module& layer, const Tensor& input, const Tensor& param) {
  DESCENT_CHECK_VALUE(input.defined(), "{}: the input is an undefined tensor", layer.name());
  DESCENT_CHECK_DTYPE(!param.defined() || input.dtype() == param.dtype(),
                      "{}: input of dtype {} but the parameters are {}; convert the input with .to() or the module "
                      "with module.to()",
                      layer.name(), dtype_name(input.dtype()), dtype_name(param.dtype()));
}

}  // namespace descent::nn::detail
