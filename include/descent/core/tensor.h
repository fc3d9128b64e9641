#pragma once
// Tensor: a cheap handle (one shared pointer) to a TensorImpl, which views shared Storage through
// shape, strides (in elements) and an offset. Copying a Tensor copies the handle, as in PyTorch:
// `Tensor b = a;` makes b the same tensor, and `a.reshape(...)` makes a view that shares a's storage.

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "descent/core/dtype.h"
#include "descent/core/error.h"
#include "descent/core/shape.h"
#include "descent/core/storage.h"

namespace descent {

class Node;
struct TensorImpl;
class Generator;

class Tensor {
 public:
  /// An undefined tensor (no storage). `defined()` is false; most operations on it throw.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }

  // --- metadata --------------------------------------------------------------------------
  const Shape& shape() const;
  /// Size of one dimension; negative dims count from the end.
  std::int64_t size(std::int64_t dim) const;
  const Strides& strides() const;
  std::int64_t offset() const;
  std::int64_t dim() const;
  std::int64_t numel() const;
  DType dtype() const;
  bool is_contiguous() const;

  // --- data --------------------------------------------------------------------------------
  /// Pointer to the first element (storage + offset); T must match dtype().
  template <typename T>
  T* data_ptr() const;
  /// The elements in row-major order, converted to T.
  template <typename T>
  std::vector<T> to_vector() const;
  /// The value of a one-element tensor, as double.
  double item() const;
  /// The element at a full index, as double: `t.at({1, 2})`.
  double at(std::initializer_list<std::int64_t> index) const;
  /// Sets the element at a full index (no autograd record; for tests and tools).
  void set(std::initializer_list<std::int64_t> index, double value) const;
  /// The element at a flat row-major position, as double; `set_flat` writes it.
  double flat(std::int64_t i) const;
  void set_flat(std::int64_t i, double value) const;

  // --- autograd ------------------------------------------------------------------------------
  bool requires_grad() const;
  /// Marks a leaf as needing gradients (floating dtypes only). Returns *this.
  const Tensor& requires_grad_(bool requires_grad = true) const;
  /// The accumulated gradient of a leaf; undefined before the first backward.
  Tensor grad() const;
  /// Replaces (or with an undefined tensor, clears) the gradient.
  void set_grad(const Tensor& grad) const;
  /// The node that produced this tensor; null for leaves.
  const std::shared_ptr<Node>& grad_fn() const;
  bool is_leaf() const;
  /// Backpropagates from this tensor. `gradient` may be omitted only for one-element tensors.
  /// Without `retain_graph` the graph's saved tensors are freed and a second backward throws.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  /// The same data, cut from the graph: no grad_fn, requires_grad false.
  Tensor detach() const;

  // --- copies and views ------------------------------------------------------------------------
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  /// Transpose of a 2-D tensor.
  Tensor t() const;
  Tensor permute(const std::vector<std::int64_t>& dims) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor expand(const Shape& shape) const;
  /// Elements start, start+step, ... < end along dim (Python's t[..., start:end:step, ...]).
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  /// Index `index` of dimension dim, which is removed (t[i] for dim 0).
  Tensor select(std::int64_t dim, std::int64_t index) const;

  // --- identity --------------------------------------------------------------------------------
  /// True when both handles refer to the same tensor object.
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  /// PyTorch's layout, with 4 decimals (int64 exactly) and the dtype always named:
  /// "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], dtype=float32)". Tensors of more than
  /// 1000 elements are summarized with "..." and end with ", shape=[...]".
  std::string to_string() const;

 private:
  const TensorImpl& checked_impl() const;
  [[noreturn]] static void throw_undefined();
  std::shared_ptr<TensorImpl> impl_;
};

/// The state behind a Tensor handle. Public so that kernels can reach the bytes; users go
/// through Tensor.
struct TensorImpl {
  // User-provided, so that make_shared does not zero the whole object before the members'
  // initializers run (a `rep stos` that was 5 % of a tiny network's step).
  TensorImpl() noexcept {}  // NOLINT(modernize-use-equals-default)

  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  std::int64_t offset = 0;
  DType dtype = DType::Float32;

  // autograd: a leaf has requires_grad and perhaps grad; a non-leaf has grad_fn.
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  std::weak_ptr<Node> grad_accumulator;  // the leaf's AccumulateGrad, shared by the graphs that use it
};

std::ostream& operator<<(std::ostream& os, const Tensor& tensor);

// The metadata accessors are inline: ops call them many times each, and as calls into the library
// they were a sixth of a tiny network's step.
inline const TensorImpl& Tensor::checked_impl() const {
  if (!impl_) [[unlikely]] throw_undefined();
  return *impl_;
}
inline const Shape& Tensor::shape() const { return checked_impl().shape; }
inline const Strides& Tensor::strides() const { return checked_impl().strides; }
inline std::int64_t Tensor::offset() const { return checked_impl().offset; }
inline std::int64_t Tensor::dim() const { return static_cast<std::int64_t>(shape().size()); }
inline std::int64_t Tensor::numel() const { return descent::numel(shape()); }
inline DType Tensor::dtype() const { return checked_impl().dtype; }

template <typename T>
T* Tensor::data_ptr() const {
  const TensorImpl& impl = checked_impl();
  if (dtype_of<T>() != impl.dtype) {
    throw DTypeError("data_ptr: tensor has dtype " + std::string(dtype_name(impl.dtype)) +
                     ", requested " + std::string(dtype_name(dtype_of<T>())));
  }
  return static_cast<T*>(impl.storage->data()) + impl.offset;
}

// --- creation (PyTorch names); dtype defaults to float32 -----------------------------------------

/// A tensor of `shape` holding `values` (row-major); throws ShapeError if the counts differ.
Tensor tensor(const std::vector<double>& values, const Shape& shape, DType dtype = kFloat32);
/// An int64 tensor (indices, class labels).
Tensor tensor_int64(const std::vector<std::int64_t>& values, const Shape& shape);
/// A 0-dimensional tensor holding one value.
Tensor scalar_tensor(double value, DType dtype = kFloat32);
Tensor empty(const Shape& shape, DType dtype = kFloat32);
Tensor zeros(const Shape& shape, DType dtype = kFloat32);
Tensor ones(const Shape& shape, DType dtype = kFloat32);
Tensor full(const Shape& shape, double value, DType dtype = kFloat32);
Tensor zeros_like(const Tensor& other);
Tensor ones_like(const Tensor& other);
Tensor full_like(const Tensor& other, double value);
/// start, start+step, ... < end (1-D).
Tensor arange(double start, double end, double step = 1.0, DType dtype = kFloat32);
Tensor arange(double end, DType dtype = kFloat32);
/// Uniform in [0, 1).
Tensor rand(const Shape& shape, Generator& generator, DType dtype = kFloat32);
/// Standard normal.
Tensor randn(const Shape& shape, Generator& generator, DType dtype = kFloat32);
/// Uniform integers in [low, high), int64.
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& generator);

}  // namespace descent
