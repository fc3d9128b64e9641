#include "descent/core/storage.h"

#include <cstdint>

#include "descent/core/memory.h"

namespace descent {

namespace {
void* aligned_inline(std::byte* buffer) {
  constexpr std::uintptr_t kAlignment = memory::kAlignment;
  const auto first = reinterpret_cast<std::uintptr_t>(buffer);
  return buffer + ((kAlignment - first % kAlignment) % kAlignment);
}
}  // namespace

// The caching allocator (descent/core/memory.h) keeps large buffers for reuse.
Storage::Storage(std::size_t nbytes)
    : data_(nbytes <= kInlineBytes ? aligned_inline(inline_) : memory::allocate(nbytes)), nbytes_(nbytes) {}

Storage::~Storage() {
  if (nbytes_ > kInlineBytes) memory::deallocate(data_, nbytes_);
}

}  // namespace descent
