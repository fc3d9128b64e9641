#include "kernels/elementwise.h"

namespace descent::kernels {

Strides broadcast_strides(const Shape& tensor_shape, const Strides& strides, const Shape& target) {
  Strides out(target.size(), 0);
  const std::size_t lead = target.size() - tensor_shape.size();
  for (std::size_t d = 0; d < tensor_shape.size(); ++d) {
    out[lead + d] = tensor_shape[d] == 1 && target[lead + d] != 1 ? 0 : strides[d];
  }
  return out;
}

void check_same_dtype(const Tensor& a, const Tensor& b, std::string_view op) {
  DESCENT_CHECK_DTYPE(a.dtype() == b.dtype(),
                      "{}: dtype mismatch: {} (shape {}) vs {} (shape {}); convert one with .to()", op,
                      dtype_name(a.dtype()), a.shape(), dtype_name(b.dtype()), b.shape());
}

void copy_into(const Tensor& dst, const Tensor& src) {
  const Shape shape = broadcast_shapes(dst.shape(), src.shape(), "copy");
  DESCENT_CHECK_SHAPE(shape == dst.shape(), "copy: source of shape {} does not broadcast to destination {}",
                      src.shape(), dst.shape());
  const Strides ss = broadcast_strides(src.shape(), src.strides(), shape);
  dispatch_all(dst.dtype(), [&]<typename D>() {
    dispatch_all(src.dtype(), [&]<typename S>() {
      D* dp = dst.data_ptr<D>();
      const S* sp = src.data_ptr<S>();
      for_each_row<2>(shape, {&dst.strides(), &ss}, [&](auto off, auto step, std::int64_t n) {
        D* out = dp + off[0];
        const S* in = sp + off[1];
        if (step[0] == 1 && step[1] == 1) {
          for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<D>(in[i]);
        } else {
          for (std::int64_t i = 0; i < n; ++i) out[i * step[0]] = static_cast<D>(in[i * step[1]]);
        }
      });
    });
  });
}

Tensor contiguous_copy(const Tensor& x) {
  Tensor y = empty(x.shape(), x.dtype());
  copy_into(y, x);
  return y;
}

}  // namespace descent::kernels
