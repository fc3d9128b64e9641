#pragma once
// Strided iteration over N operands that share one (broadcast) shape. Adjacent dimensions that are
// contiguous for every operand are merged first, so the common case (all contiguous) becomes a
// single row the compiler vectorizes. Rows are split across OpenMP threads above kParallelGrain.

#include <algorithm>
#include <array>
#include <cstdint>

#include "descent/core/shape.h"
#include "kernels/parallel.h"

namespace descent::kernels {

/// Elements below which a kernel stays on one thread: spawning a team costs more than it saves.
/// Measured with bench/elementwise_bench (see docs/benchmarks.md).
inline constexpr std::int64_t kParallelGrain = 32768;

/// Strides of `tensor_shape` broadcast (NumPy rules) to `target`: 0 in broadcast dimensions.
Strides broadcast_strides(const Shape& tensor_shape, const Strides& strides, const Shape& target);

template <std::size_t N>
struct RowLayout {
  Shape sizes;                           // merged sizes, outermost first; the last is the row
  std::array<Strides, N> strides;        // per operand, merged
};

template <std::size_t N>
RowLayout<N> coalesce(const Shape& shape, const std::array<const Strides*, N>& strides) {
  RowLayout<N> out;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 dims never move the position
    if (!out.sizes.empty()) {
      bool mergeable = true;
      for (std::size_t k = 0; k < N; ++k) {
        if (out.strides[k].back() != (*strides[k])[d] * shape[d]) mergeable = false;
      }
      if (mergeable) {
        out.sizes.back() *= shape[d];
        for (std::size_t k = 0; k < N; ++k) out.strides[k].back() = (*strides[k])[d];
        continue;
      }
    }
    out.sizes.push_back(shape[d]);
    for (std::size_t k = 0; k < N; ++k) out.strides[k].push_back((*strides[k])[d]);
  }
  if (out.sizes.empty()) {  // scalar or all-ones shape: one element
    out.sizes.push_back(1);
    for (std::size_t k = 0; k < N; ++k) out.strides[k].push_back(0);
  }
  return out;
}

/// Whether every operand lies dense in row-major order over `shape` (size-1 dims aside): then
/// all of them are one row of numel(shape) elements, with no layout to build.
template <std::size_t N>
bool all_dense(const Shape& shape, const std::array<const Strides*, N>& strides) {
  for (std::size_t k = 0; k < N; ++k) {
    std::int64_t expected = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (shape[d] == 1) continue;
      if ((*strides[k])[d] != expected) return false;
      expected *= shape[d];
    }
  }
  return true;
}

/// Calls row(offsets, steps, n) for one row of row_len elements (operand k's at offsets[k] +
/// i * steps[k], starting at 0), in chunks across the threads when it is long.
template <std::size_t N, typename Row>
void for_one_row(std::int64_t row_len, const std::array<std::int64_t, N>& steps, Row&& row) {
  if (row_len < kParallelGrain) {
    row(std::array<std::int64_t, N>{}, steps, row_len);
    return;
  }
  const std::int64_t chunk = kParallelGrain / 2;
  const std::int64_t chunks = (row_len + chunk - 1) / chunk;
  parallel_for(chunks, true, [&](std::int64_t c) {
    std::array<std::int64_t, N> off;
    for (std::size_t k = 0; k < N; ++k) off[k] = c * chunk * steps[k];
    row(off, steps, std::min(chunk, row_len - c * chunk));
  });
}

/// Calls row(offsets, steps, n) for every innermost row: operand k's elements are at
/// offsets[k] + i * steps[k] for i < n (offsets and steps in elements).
template <std::size_t N, typename Row>
void for_each_row(const Shape& shape, const std::array<const Strides*, N>& strides, Row&& row) {
  const std::int64_t total = numel(shape);
  if (total == 0) return;
  if (all_dense<N>(shape, strides)) {  // the common case, and the cheap one: no heap allocation
    std::array<std::int64_t, N> ones;
    ones.fill(1);
    for_one_row<N>(total, ones, row);
    return;
  }
  const RowLayout<N> layout = coalesce<N>(shape, strides);
  const std::size_t nd = layout.sizes.size();
  const std::int64_t row_len = layout.sizes[nd - 1];
  const std::int64_t rows = total / row_len;
  std::array<std::int64_t, N> steps;
  for (std::size_t k = 0; k < N; ++k) steps[k] = layout.strides[k][nd - 1];
  if (rows == 1) {
    for_one_row<N>(row_len, steps, row);
    return;
  }

  auto row_offsets = [&](std::int64_t r) {
    std::array<std::int64_t, N> off{};
    for (std::size_t d = nd - 1; d-- > 0;) {
      const std::int64_t i = r % layout.sizes[d];
      r /= layout.sizes[d];
      for (std::size_t k = 0; k < N; ++k) off[k] += i * layout.strides[k][d];
    }
    return off;
  };
  parallel_for(rows, total >= kParallelGrain, [&](std::int64_t r) { row(row_offsets(r), steps, row_len); });
}

}  // namespace descent::kernels
