#pragma once
// A reference-counted, 64-byte aligned buffer that tensors view. Several tensors (a tensor and its
// reshapes, transposes and slices) share one Storage. Buffers of up to 64 bytes (scalars, losses,
// the biases and activations of a tiny network) live inside the Storage object itself; larger ones
// come from the caching allocator (descent/core/memory.h).

#include <cstddef>

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
  // The inline buffer has 48 spare bytes, so that a 64-byte aligned start fits in it although the
  // Storage itself is only 16-byte aligned (an over-aligned type would need aligned new, whose
  // blocks glibc reuses badly).
  alignas(16) std::byte inline_[kInlineBytes + 48];
};

}  // namespace descent
