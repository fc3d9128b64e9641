#pragma once
// Runtime dtype -> compile-time element type. Kernels are templates on T; ops call them through
// dispatch_floating with a template lambda:  dispatch_floating(x.dtype(), "exp", [&]<typename T>() {...});

#include <string_view>

#include "descent/core/dtype.h"
#include "internal/check.h"

namespace descent::kernels {

template <typename F>
decltype(auto) dispatch_floating(DType dtype, std::string_view op, F&& f) {
  switch (dtype) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: break;
  }
  throw DTypeError(fmt::format("{}: expected a floating dtype (float32 or float64), got {}", op,
                               dtype_name(dtype)));
}

template <typename F>
decltype(auto) dispatch_all(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    case DType::Int64: break;
  }
  return f.template operator()<std::int64_t>();
}

}  // namespace descent::kernels
