#include "nn/assign.h"

#include <fmt/format.h>

#include "kernels/elementwise.h"

namespace descent::nn::detail {

void assign(const Tensor& dst, const Tensor& src) { kernels::copy_into(dst, src.detach()); }

void convert_in_place(const Tensor& t, DType dtype) {
  if (!t.defined() || !is_floating(t.dtype()) || !is_floating(dtype) || t.dtype() == dtype) return;
  Tensor converted = empty(t.shape(), dtype);
  kernels::copy_into(converted, t.detach());
  TensorImpl& impl = *t.impl();
  impl.storage = converted.impl()->storage;
  impl.strides = converted.strides();
  impl.offset = 0;
  impl.dtype = dtype;
  if (impl.grad.defined()) {
    Tensor grad = empty(impl.grad.shape(), dtype);
    kernels::copy_into(grad, impl.grad);
    impl.grad = grad;
  }
  // Graphs recorded before the conversion expect the old dtype; new graphs get a new accumulator.
  impl.grad_accumulator.reset();
}

std::string py_float(double value) {
  std::string s = fmt::format("{}", value);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // "n": inf, nan
  return s;
}

}  // namespace descent::nn::detail
