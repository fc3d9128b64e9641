#pragma once
// The fused per-parameter update: one pass over the parameter's storage, its gradient and its
// state buffers, as raw pointers of the parameter's element type.

#include <cstdint>
#include <string_view>

#include "descent/core/tensor.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/iterate.h"
#include "kernels/parallel.h"

namespace descent::optim::detail {

/// Calls body.template operator()<T>(param_data, grad_data, n) with T the parameter's element
/// type. A non-contiguous parameter is updated in a contiguous copy that is then written back; a
/// non-contiguous gradient is read from a contiguous copy. State buffers are contiguous by
/// construction.
template <typename Body>
void fused_update(const Tensor& param, const Tensor& grad, std::string_view op, Body&& body) {
  DESCENT_CHECK_SHAPE(grad.shape() == param.shape() && grad.dtype() == param.dtype(),
                      "{}: gradient of shape {} and dtype {} does not match its parameter of shape {} and dtype {}", op,
                      grad.shape(), dtype_name(grad.dtype()), param.shape(), dtype_name(param.dtype()));
  const bool in_place = param.is_contiguous();
  const Tensor work = in_place ? param : kernels::contiguous_copy(param);
  const Tensor g = grad.is_contiguous() ? grad : kernels::contiguous_copy(grad);
  kernels::dispatch_floating(param.dtype(), op, [&]<typename T>() {
    body.template operator()<T>(work.data_ptr<T>(), static_cast<const T*>(g.data_ptr<T>()), param.numel());
  });
  if (!in_place) kernels::copy_into(param, work);
}

/// Runs f(begin, end) over [0, n), split across OpenMP threads for large n. Every element is
/// independent, so the split does not change the result.
template <typename F>
void parallel_range(std::int64_t n, F&& f) {
  if (n < kernels::kParallelGrain) {
    f(std::int64_t{0}, n);
    return;
  }
  const std::int64_t chunk = kernels::kParallelGrain / 2;
  const std::int64_t chunks = (n + chunk - 1) / chunk;
  kernels::parallel_for(chunks, true, [&](std::int64_t c) {
    const std::int64_t begin = c * chunk;
    f(begin, begin + chunk < n ? begin + chunk : n);
  });
}

/// The buffer's data as T (buffers have the parameter's dtype).
template <typename T>
T* buf(const Tensor& t) {
  return t.data_ptr<T>();
}

}  // namespace descent::optim::detail
