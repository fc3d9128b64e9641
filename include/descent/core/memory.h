#pragma once
// Where tensor memory comes from: a caching allocator. Training allocates the same buffers every
// step (activations, im2col matrices, gradients); handing a large freed buffer back to the kernel
// and faulting it in again on the next step cost 5x an epoch of CNN training on a VM
// (docs/benchmarks.md). So a freed buffer of 64 KiB or more is kept, in a free list of its size
// class, and handed to the next request of that class; smaller buffers go to malloc, which keeps
// them itself. The cache is bounded (memory_cache_limit) and can be emptied (empty_memory_cache).
// Thread-safe.

#include <cstddef>
#include <cstdint>

namespace descent {

struct MemoryStats {
  std::size_t in_use_bytes = 0;       // tensor buffers alive now (size classes, large buffers only)
  std::size_t peak_in_use_bytes = 0;  // the most in_use_bytes has been since the last reset
  std::size_t cached_bytes = 0;       // freed large buffers kept for reuse
  std::int64_t allocations = 0;       // every buffer requested, small ones included (not the data of
                                      // tensors of <= 64 bytes, held inside their Storage)
  std::int64_t cache_hits = 0;        // large requests served from the cache
  std::int64_t cache_misses = 0;      // large requests that went to the system
};

/// The allocator's counters now.
MemoryStats memory_stats();

/// Sets peak_in_use_bytes to in_use_bytes and the counters (allocations, hits, misses) to 0.
void reset_memory_stats();

/// Hands every cached buffer back to the system (as torch.cuda.empty_cache for the GPU).
void empty_memory_cache();

/// The most freed memory the cache keeps, in bytes (default 1 GiB). Over it, the largest cached
/// buffers go back to the system first. 0 turns caching off (every large buffer is freed at once).
void set_memory_cache_limit(std::size_t bytes);
std::size_t memory_cache_limit();

namespace memory {
/// Where every tensor buffer starts: a multiple of this many bytes (a cache line, and the widest
/// SIMD register). Storage's inline buffers keep it too.
inline constexpr std::size_t kAlignment = 64;
/// A 64-byte aligned buffer of at least nbytes bytes, uninitialized (Storage's allocation).
/// Throws std::bad_alloc when the system has no memory.
void* allocate(std::size_t nbytes);
/// Returns a buffer from allocate(nbytes), with the same nbytes.
void deallocate(void* data, std::size_t nbytes) noexcept;
/// The size class of a large request: the bytes allocate(nbytes) really reserves (0 for a small
/// request, which malloc serves). Classes are 8 steps per power of two, so at most 12.5 % is spare.
std::size_t size_class(std::size_t nbytes);
}  // namespace memory

}  // namespace descent
