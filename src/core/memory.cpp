#include "descent/core/memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace descent {

namespace {

using memory::kAlignment;
constexpr std::size_t kLargeMin = std::size_t{64} << 10;  // below: malloc's own bins serve well
constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Large buffers come from mmap (page-aligned, so 64-byte aligned) and are cached by size class.
class Cache {
 public:
  void* allocate(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* data = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        ++hits_;
        note_in_use(bytes);
        return data;
      }
      ++misses_;
    }
    void* data = map(bytes);
    if (data == nullptr) {  // the cache may hold what the system lacks
      empty();
      data = map(bytes);
      if (data == nullptr) throw std::bad_alloc();
    }
    std::lock_guard lock(mutex_);
    note_in_use(bytes);
    return data;
  }

  void deallocate(void* data, std::size_t bytes) noexcept {
    std::vector<std::pair<void*, std::size_t>> release;  // unmapped outside the lock
    {
      std::lock_guard lock(mutex_);
      in_use_ -= bytes;
      if (bytes > limit_) {
        release.emplace_back(data, bytes);
      } else {
        while (cached_ + bytes > limit_) release.push_back(pop_largest());
        try {
          free_[bytes].push_back(data);
          cached_ += bytes;
        } catch (...) {  // no memory for the list itself: give the buffer back instead
          release.emplace_back(data, bytes);
        }
      }
    }
    for (auto [p, n] : release) ::munmap(p, n);
  }

  void empty() {
    std::vector<std::pair<void*, std::size_t>> release;
    {
      std::lock_guard lock(mutex_);
      while (cached_ > 0) release.push_back(pop_largest());
    }
    for (auto [p, n] : release) ::munmap(p, n);
  }

  void set_limit(std::size_t bytes) {
    std::vector<std::pair<void*, std::size_t>> release;
    {
      std::lock_guard lock(mutex_);
      limit_ = bytes;
      while (cached_ > limit_) release.push_back(pop_largest());
    }
    for (auto [p, n] : release) ::munmap(p, n);
  }

  std::size_t limit() {
    std::lock_guard lock(mutex_);
    return limit_;
  }

  MemoryStats stats() {
    std::lock_guard lock(mutex_);
    return {.in_use_bytes = in_use_,
            .peak_in_use_bytes = peak_,
            .cached_bytes = cached_,
            .allocations = small_allocations.load(std::memory_order_relaxed) + hits_ + misses_,
            .cache_hits = hits_,
            .cache_misses = misses_};
  }

  void reset_stats() {
    std::lock_guard lock(mutex_);
    peak_ = in_use_;
    hits_ = misses_ = 0;
    small_allocations.store(0, std::memory_order_relaxed);
  }

  std::atomic<std::int64_t> small_allocations{0};

 private:
  static void* map(std::size_t bytes) {
    void* data = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
    // Where the kernel grants transparent huge pages only on request, ask for them: first touching
    // a 2 MiB page is one fault instead of 512.
    if (bytes >= 2 * kHugePage) {
      const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
      const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHugePage - 1);
      if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
    }
#endif
    return data;
  }

  void note_in_use(std::size_t bytes) {
    in_use_ += bytes;
    peak_ = std::max(peak_, in_use_);
  }

  // Requires the lock and cached_ > 0.
  std::pair<void*, std::size_t> pop_largest() {
    auto it = std::prev(free_.end());
    while (it->second.empty()) it = std::prev(free_.erase(it));
    void* data = it->second.back();
    it->second.pop_back();
    const std::size_t bytes = it->first;
    if (it->second.empty()) free_.erase(it);
    cached_ -= bytes;
    return {data, bytes};
  }

  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;  // size class -> cached buffers
  std::size_t limit_ = std::size_t{1} << 30;
  std::size_t cached_ = 0, in_use_ = 0, peak_ = 0;
  std::int64_t hits_ = 0, misses_ = 0;
};

// Never destroyed: tensors in static objects may be freed after main returns.
Cache& cache() {
  static Cache* instance = new Cache;
  return *instance;
}

}  // namespace

namespace memory {

std::size_t size_class(std::size_t nbytes) {
  if (nbytes < kLargeMin) return 0;
  // 8 classes per power of two: step = 2^floor(log2 nbytes) / 8 (a multiple of the page size).
  const std::size_t step = std::bit_floor(nbytes) / 8;
  return (nbytes + step - 1) / step * step;
}

// Small buffers: malloc'd with kAlignment spare bytes; the aligned start is made inside the block and
// the block's own start is stored just before it. Not std::aligned_alloc: glibc does not hand a block
// freed by aligned_alloc back to the next request of the same size (it splits the over-allocation
// off), so tensors allocated and freed in turn kept getting fresh pages.
void* allocate(std::size_t nbytes) {
  if (const std::size_t bytes = size_class(nbytes)) return cache().allocate(bytes);
  cache().small_allocations.fetch_add(1, std::memory_order_relaxed);
  void* raw = std::malloc(nbytes + kAlignment);
  if (raw == nullptr) throw std::bad_alloc();
  const auto first = reinterpret_cast<std::uintptr_t>(raw) + sizeof(void*);
  const std::uintptr_t aligned = (first + kAlignment - 1) & ~static_cast<std::uintptr_t>(kAlignment - 1);
  void* data = reinterpret_cast<void*>(aligned);
  static_cast<void**>(data)[-1] = raw;
  return data;
}

void deallocate(void* data, std::size_t nbytes) noexcept {
  if (data == nullptr) return;
  if (const std::size_t bytes = size_class(nbytes)) {
    cache().deallocate(data, bytes);
    return;
  }
  std::free(static_cast<void**>(data)[-1]);
}

}  // namespace memory

MemoryStats memory_stats() { return cache().stats(); }
void reset_memory_stats() { cache().reset_stats(); }
void empty_memory_cache() { cache().empty(); }
void set_memory_cache_limit(std::size_t bytes) { cache().set_limit(bytes); }
std::size_t memory_cache_limit() { return cache().limit(); }

}  // namespace descent
