#pragma once
// Element types. Floating tensors take part in arithmetic and autograd; int64 tensors carry
// indices (index_select, gather, class labels) as in PyTorch.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace descent {

enum class DType : std::uint8_t { Float32, Float64, Int64 };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;

/// Size of one element in bytes.
constexpr std::size_t element_size(DType dtype) {
  return dtype == DType::Float32 ? 4 : 8;
}

/// PyTorch's spelling: "float32", "float64", "int64".
constexpr std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}

constexpr bool is_floating(DType dtype) { return dtype != DType::Int64; }

/// The DType of a C++ element type: dtype_of<float> == kFloat32.
template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::Float32; }
template <>
constexpr DType dtype_of<double>() { return DType::Float64; }
template <>
constexpr DType dtype_of<std::int64_t>() { return DType::Int64; }

}  // namespace descent
