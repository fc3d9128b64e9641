#pragma once
// A reference-counted, 64-byte aligned buffer that tensors view, from the caching allocator
// (descent/core/memory.h). Several tensors (a tensor and its reshapes, transposes and slices)
// share one Storage.

#include <cstddef>
#include <memory>

namespace descent {

class Storage {
 public:
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
};

}  // namespace descent
