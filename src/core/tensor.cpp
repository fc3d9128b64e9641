#include "descent/core/tensor.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "descent/core/generator.h"

#include "descent/autograd/node.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/dispatch.h"

namespace descent {

void Tensor::throw_undefined() { throw Error("operation on an undefined tensor (default-constructed Tensor)"); }

std::int64_t Tensor::size(std::int64_t d) const {
  // normalize_dim lets a scalar take dim 0 / -1 (for reductions), but a scalar has no size to read.
  DESCENT_CHECK_INDEX(dim() > 0, "size: dimension {} specified, but a 0-dimensional tensor has no dimensions", d);
  return shape()[normalize_dim(d, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked_impl();
  if (descent::numel(t.shape) == 0) return true;  // as in PyTorch: no elements, nothing out of place
  std::int64_t expected = 1;
  for (std::size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] == 1) continue;  // any stride is fine for a size-1 dimension
    if (t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

namespace {
// Storage position of a flat row-major index.
std::int64_t storage_position(const TensorImpl& t, std::int64_t flat) {
  std::int64_t pos = t.offset;
  for (std::size_t d = t.shape.size(); d-- > 0;) {
    pos += (flat % t.shape[d]) * t.strides[d];
    flat /= t.shape[d];
  }
  return pos;
}

std::int64_t index_position(const TensorImpl& t, std::initializer_list<std::int64_t> index) {
  DESCENT_CHECK_INDEX(index.size() == t.shape.size(), "at: index has {} entries for a tensor of shape {}",
                      index.size(), t.shape);
  std::int64_t pos = t.offset;
  std::size_t d = 0;
  for (std::int64_t i : index) {
    DESCENT_CHECK_INDEX(i >= 0 && i < t.shape[d], "at: index {} out of range for dimension {} of shape {}",
                        i, d, t.shape);
    pos += i * t.strides[d];
    ++d;
  }
  return pos;
}

double read(const TensorImpl& t, std::int64_t pos) {
  return kernels::dispatch_all(t.dtype, [&]<typename T>() {
    return static_cast<double>(static_cast<const T*>(t.storage->data())[pos]);
  });
}

void write(const TensorImpl& t, std::int64_t pos, double value) {
  kernels::dispatch_all(t.dtype, [&]<typename T>() { static_cast<T*>(t.storage->data())[pos] = static_cast<T>(value); });
}
}  // namespace

template <typename T>
std::vector<T> Tensor::to_vector() const {
  const TensorImpl& t = checked_impl();
  const std::int64_t n = numel();
  std::vector<T> out(static_cast<std::size_t>(n));
  kernels::dispatch_all(t.dtype, [&]<typename S>() {
    const S* base = static_cast<const S*>(t.storage->data());
    if (is_contiguous()) {
      for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(base[t.offset + i]);
    } else {
      for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(base[storage_position(t, i)]);
    }
  });
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

double Tensor::item() const {
  DESCENT_CHECK_SHAPE(numel() == 1, "item: expected a tensor with one element, got shape {}", shape());
  return read(checked_impl(), storage_position(checked_impl(), 0));
}
double Tensor::at(std::initializer_list<std::int64_t> index) const {
  return read(checked_impl(), index_position(checked_impl(), index));
}
void Tensor::set(std::initializer_list<std::int64_t> index, double value) const {
  write(checked_impl(), index_position(checked_impl(), index), value);
}
double Tensor::flat(std::int64_t i) const {
  DESCENT_CHECK_INDEX(i >= 0 && i < numel(), "flat: index {} out of range for {} elements", i, numel());
  return read(checked_impl(), storage_position(checked_impl(), i));
}
void Tensor::set_flat(std::int64_t i, double value) const {
  DESCENT_CHECK_INDEX(i >= 0 && i < numel(), "set_flat: index {} out of range for {} elements", i, numel());
  write(checked_impl(), storage_position(checked_impl(), i), value);
}

// --- autograd -------------------------------------------------------------------------------------

bool Tensor::requires_grad() const {
  const TensorImpl& t = checked_impl();
  return t.requires_grad || t.grad_fn != nullptr;
}

const Tensor& Tensor::requires_grad_(bool requires_grad) const {
  TensorImpl& t = const_cast<TensorImpl&>(checked_impl());
  if (t.grad_fn != nullptr) {
    // A non-leaf already requires grad (as in PyTorch, asking again is a no-op); it cannot stop.
    DESCENT_CHECK_AUTOGRAD(requires_grad,
                           "requires_grad_: only leaf tensors can change requires_grad; this tensor was "
                           "produced by {} (use detach() to make a leaf)",
                           t.grad_fn->name());
    return *this;
  }
  DESCENT_CHECK_DTYPE(!requires_grad || is_floating(t.dtype),
                      "requires_grad_: only floating tensors can require gradients, got {}",
                      dtype_name(t.dtype));
  t.requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return checked_impl().grad; }

void Tensor::set_grad(const Tensor& grad) const {
  TensorImpl& t = const_cast<TensorImpl&>(checked_impl());
  if (grad.defined()) {
    DESCENT_CHECK_SHAPE(grad.shape() == t.shape && grad.dtype() == t.dtype,
                        "set_grad: gradient of shape {} and dtype {} does not match tensor of shape {} and dtype {}",
                        grad.shape(), dtype_name(grad.dtype()), t.shape, dtype_name(t.dtype));
  }
  t.grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked_impl().grad_fn; }
bool Tensor::is_leaf() const { return checked_impl().grad_fn == nullptr; }

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  const TensorImpl& t = checked_impl();
  DESCENT_CHECK_AUTOGRAD(requires_grad(),
                         "backward: tensor of shape {} does not require grad and has no grad_fn", t.shape);
  Tensor grad = gradient;
  if (!grad.defined()) {
    DESCENT_CHECK_AUTOGRAD(numel() == 1,
                           "backward: grad can be implicitly created only for scalar outputs; this output "
                           "has shape {}, so pass a gradient of that shape",
                           t.shape);
    grad = ones(t.shape, t.dtype);
  }
  DESCENT_CHECK_SHAPE(grad.shape() == t.shape, "backward: gradient has shape {} but the output has shape {}",
                      grad.shape(), t.shape);
  DESCENT_CHECK_DTYPE(grad.dtype() == t.dtype, "backward: gradient has dtype {} but the output has dtype {}",
                      dtype_name(grad.dtype()), dtype_name(t.dtype));
  run_backward(*this, grad, retain_graph);
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked_impl();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->shape = t.shape;
  impl->strides = t.strides;
  impl->offset = t.offset;
  impl->dtype = t.dtype;
  return Tensor(std::move(impl));
}

// --- views and copies delegate to the differentiable ops -------------------------------------------

Tensor Tensor::contiguous() const { return descent::contiguous(*this); }
Tensor Tensor::clone() const { return descent::clone(*this); }
Tensor Tensor::to(DType dtype) const { return descent::to(*this, dtype); }
Tensor Tensor::reshape(const Shape& s) const { return descent::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return descent::view(*this, s); }
Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  return descent::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const { return descent::transpose(*this, d0, d1); }
Tensor Tensor::t() const {
  DESCENT_CHECK_SHAPE(dim() <= 2, "t: expects a tensor with at most 2 dimensions, got shape {}", shape());
  return dim() < 2 ? *this : descent::transpose(*this, 0, 1);
}
Tensor Tensor::permute(const std::vector<std::int64_t>& dims) const { return descent::permute(*this, dims); }
Tensor Tensor::squeeze() const { return descent::squeeze(*this); }
Tensor Tensor::squeeze(std::int64_t d) const { return descent::squeeze(*this, d); }
Tensor Tensor::unsqueeze(std::int64_t d) const { return descent::unsqueeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return descent::expand(*this, s); }
Tensor Tensor::slice(std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step) const {
  return descent::slice(*this, d, start, end, step);
}
Tensor Tensor::select(std::int64_t d, std::int64_t index) const { return descent::select(*this, d, index); }

// --- creation ---------------------------------------------------------------------------------------

Tensor empty(const Shape& shape, DType dtype) {
  for (std::int64_t s : shape) {
    DESCENT_CHECK_VALUE(s >= 0, "empty: negative dimension in shape {}", shape);
  }
  auto impl = std::make_shared<TensorImpl>();
  const std::int64_t n = numel(shape);
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(n) * element_size(dtype));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels::dispatch_all(dtype, [&]<typename T>() {
    T* p = t.data_ptr<T>();
    const T v = static_cast<T>(value);
    const std::int64_t n = t.numel();
    for (std::int64_t i = 0; i < n; ++i) p[i] = v;
  });
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& other) { return zeros(other.shape(), other.dtype()); }
Tensor ones_like(const Tensor& other) { return ones(other.shape(), other.dtype()); }
Tensor full_like(const Tensor& other, double value) { return full(other.shape(), value, other.dtype()); }
Tensor scalar_tensor(double value, DType dtype) { return full({}, value, dtype); }

Tensor tensor(const std::vector<double>& values, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  DESCENT_CHECK_SHAPE(static_cast<std::int64_t>(values.size()) == t.numel(),
                      "tensor: {} values do not fill shape {} ({} elements)", values.size(), shape, t.numel());
  kernels::dispatch_all(dtype, [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return t;
}

Tensor tensor_int64(const std::vector<std::int64_t>& values, const Shape& shape) {
  Tensor t = empty(shape, kInt64);
  DESCENT_CHECK_SHAPE(static_cast<std::int64_t>(values.size()) == t.numel(),
                      "tensor_int64: {} values do not fill shape {} ({} elements)", values.size(), shape,
                      t.numel());
  std::copy(values.begin(), values.end(), t.data_ptr<std::int64_t>());
  return t;
}

Tensor arange(double start, double end, double step, DType dtype) {
  DESCENT_CHECK_VALUE(step != 0.0, "arange: step must be nonzero");
  DESCENT_CHECK_VALUE(std::isfinite(start) && std::isfinite(end), "arange: unsupported range {} -> {}", start, end);
  DESCENT_CHECK_VALUE((step > 0 && end >= start) || (step < 0 && end <= start),
                      "arange: upper bound and lower bound inconsistent with step sign (start {}, end {}, step {})",
                      start, end, step);
  const double span = (end - start) / step;
  const auto n = span > 0 ? static_cast<std::int64_t>(std::ceil(span)) : 0;
  Tensor t = empty({n}, dtype);
  kernels::dispatch_all(dtype, [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return t;
}
Tensor arange(double end, DType dtype) { return arange(0.0, end, 1.0, dtype); }

Tensor rand(const Shape& shape, Generator& generator, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels::dispatch_floating(dtype, "rand", [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<T, float>) {
        // 24 random bits: a 53-bit double just below 1 would round up to 1.0f, outside [0, 1).
        p[i] = static_cast<float>(generator.next_u64() >> 40) * 0x1.0p-24f;
      } else {
        p[i] = static_cast<T>(generator.uniform());
      }
    }
  });
  return t;
}

Tensor randn(const Shape& shape, Generator& generator, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels::dispatch_floating(dtype, "randn", [&]<typename T>() {
    T* p = t.data_ptr<T>();
    const std::int64_t n = t.numel();
    std::int64_t i = 0;
    for (; i + 1 < n; i += 2) {
      const auto pair = generator.normal_pair();
      p[i] = static_cast<T>(pair[0]);
      p[i + 1] = static_cast<T>(pair[1]);
    }
    if (i < n) p[i] = static_cast<T>(generator.normal());
  });
  return t;
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& generator) {
  DESCENT_CHECK_VALUE(low < high, "randint: expected low < high, got low={} high={}", low, high);
  Tensor t = empty(shape, kInt64);
  auto* p = t.data_ptr<std::int64_t>();
  // Unsigned arithmetic: high - low and low + k may exceed int64 for wide ranges.
  const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    p[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + generator.integer(range));
  }
  return t;
}

}  // namespace descent
