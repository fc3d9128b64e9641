#include "descent/core/storage.h"

#include "descent/core/memory.h"

namespace descent {

// The caching allocator (descent/core/memory.h) keeps large buffers for reuse.
Storage::Storage(std::size_t nbytes) : data_(memory::allocate(nbytes)), nbytes_(nbytes) {}

Storage::~Storage() { memory::deallocate(data_, nbytes_); }

}  // namespace descent
