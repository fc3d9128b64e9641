#include "descent/core/storage.h"

#include <cstdint>
#include <cstdlib>
#include <new>

namespace descent {

namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and the widest SIMD register
}

// Not std::aligned_alloc: glibc does not hand a block freed by aligned_alloc back to the next
// request of the same size (it splits the over-allocation off), so tensors allocated and freed in
// turn kept getting fresh pages and page-faulted on first touch (docs/benchmarks.md measured matmul
// 256 at 2.5x its BLAS time and relu on 64k elements at 70x). malloc reuses the block; the
// alignment is made inside a block kAlignment bytes larger, whose start is stored just before data_.
Storage::Storage(std::size_t nbytes) : nbytes_(nbytes) {
  void* raw = std::malloc(nbytes + kAlignment);
  if (raw == nullptr) throw std::bad_alloc();
  const auto first = reinterpret_cast<std::uintptr_t>(raw) + sizeof(void*);
  const std::uintptr_t aligned = (first + kAlignment - 1) & ~static_cast<std::uintptr_t>(kAlignment - 1);
  data_ = reinterpret_cast<void*>(aligned);
  reinterpret_cast<void**>(data_)[-1] = raw;
}

Storage::~Storage() { std::free(reinterpret_cast<void**>(data_)[-1]); }

}  // namespace descent
