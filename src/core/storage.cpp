#include "descent/core/storage.h"

#include <cstdlib>
#include <new>

namespace descent {

namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and the widest SIMD register
}

Storage::Storage(std::size_t nbytes) : nbytes_(nbytes) {
  const std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data_ == nullptr) throw std::bad_alloc();
}

Storage::~Storage() { std::free(data_); }

}  // namespace descent
