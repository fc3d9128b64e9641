#pragma once
// A reference-counted, 64-byte aligned buffer that tensors view. Several tensors (a tensor and its
// reshapes, transposes and slices) share one Storage. Buffers of up to 64 bytes (scalars, losses,
// the biases and activations of a tiny network) live inside the Storage object itself; larger ones
// come from the caching allocator (descent/core/memory.h).

#include <cstddef>

#include "descent/core/memory.h"

namespace descent {

class Storage {
 public:
  /// Buffers of at most this many bytes are held inline: no allocation of their own.
  static constexpr std::size_t kInlineBytes = 64;

  /// Allocates `nbytes` bytes, uninitialized.
  explicit Storage(std::size_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  // The inline buffer is only 16-byte aligned, as the Storage itself (an over-aligned type would
  // need aligned new, whose blocks glibc reuses badly), so it has 48 spare bytes: a
  // memory::kAlignment start then always fits in it.
  static constexpr std::size_t kInlineAlignment = 16;
  static_assert(memory::kAlignment % kInlineAlignment == 0);
  alignas(kInlineAlignment) std::byte inline_[kInlineBytes + memory::kAlignment - kInlineAlignment];
};

}  // namespace descent
