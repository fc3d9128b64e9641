#pragma once
// Elementwise kernels: map a functor over one, two or three (broadcast) operands into a new
// contiguous tensor. The functor is a generic lambda, instantiated per element type, so the inner
// loops are plain loops the compiler vectorizes; there is no per-element virtual call.

#include <string_view>

#include "descent/core/tensor.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/iterate.h"

namespace descent::kernels {

/// y = f(x), same shape and dtype as x.
template <typename F>
Tensor map_unary(const Tensor& x, std::string_view op, F f) {
  Tensor y = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    for_each_row<2>(x.shape(), {&y.strides(), &x.strides()}, [&](auto off, auto step, std::int64_t n) {
      const F fn = f;  // a local copy: its captures stay in registers and the loop vectorizes
      T* out = yp + off[0];
      const T* in = xp + off[1];
      if (step[1] == 1) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = fn(in[i]);
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = fn(in[i * step[1]]);
      }
    });
  });
  return y;
}

/// Checks that two operands share a dtype; `op` names the op in the message.
void check_same_dtype(const Tensor& a, const Tensor& b, std::string_view op);

/// y = f(a, b) with NumPy broadcasting; a and b must have the same floating dtype.
template <typename F>
Tensor map_binary(const Tensor& a, const Tensor& b, std::string_view op, F f) {
  check_same_dtype(a, b, op);
  // Same shapes (the common case) need no broadcast shape or strides built.
  const bool same_shape = a.shape() == b.shape();
  const Shape broadcast = same_shape ? Shape{} : broadcast_shapes(a.shape(), b.shape(), op);
  const Shape& shape = same_shape ? a.shape() : broadcast;
  Tensor y = empty(shape, a.dtype());
  const Strides sa = same_shape ? Strides{} : broadcast_strides(a.shape(), a.strides(), shape);
  const Strides sb = same_shape ? Strides{} : broadcast_strides(b.shape(), b.strides(), shape);
  dispatch_floating(a.dtype(), op, [&]<typename T>() {
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    for_each_row<3>(shape, {&y.strides(), same_shape ? &a.strides() : &sa, same_shape ? &b.strides() : &sb},
                    [&](auto off, auto step, std::int64_t n) {
      const F fn = f;  // a local copy: its captures stay in registers and the loop vectorizes
      T* out = yp + off[0];
      const T* pa = ap + off[1];
      const T* pb = bp + off[2];
      if (step[1] == 1 && step[2] == 1) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = fn(pa[i], pb[i]);
      } else if (step[1] == 1 && step[2] == 0) {
        const T bv = *pb;
        for (std::int64_t i = 0; i < n; ++i) out[i] = fn(pa[i], bv);
      } else if (step[1] == 0 && step[2] == 1) {
        const T av = *pa;
        for (std::int64_t i = 0; i < n; ++i) out[i] = fn(av, pb[i]);
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = fn(pa[i * step[1]], pb[i * step[2]]);
      }
    });
  });
  return y;
}

/// y = f(a, b, c) with broadcasting over all three; all of the same floating dtype.
template <typename F>
Tensor map_ternary(const Tensor& a, const Tensor& b, const Tensor& c, std::string_view op, F f) {
  check_same_dtype(a, b, op);
  check_same_dtype(a, c, op);
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), op), c.shape(), op);
  Tensor y = empty(shape, a.dtype());
  const Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
  const Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
  const Strides sc = broadcast_strides(c.shape(), c.strides(), shape);
  dispatch_floating(a.dtype(), op, [&]<typename T>() {
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    const T* cp = c.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    for_each_row<4>(shape, {&y.strides(), &sa, &sb, &sc}, [&](auto off, auto step, std::int64_t n) {
      const F fn = f;
      for (std::int64_t i = 0; i < n; ++i) {
        yp[off[0] + i] = fn(ap[off[1] + i * step[1]], bp[off[2] + i * step[2]], cp[off[3] + i * step[3]]);
      }
    });
  });
  return y;
}

/// Copies src into the (possibly strided) view dst, broadcasting src to dst's shape and
/// converting between dtypes. The only kernel that writes into an existing tensor's storage.
void copy_into(const Tensor& dst, const Tensor& src);

/// A contiguous copy of x (same dtype).
Tensor contiguous_copy(const Tensor& x);

}  // namespace descent::kernels
