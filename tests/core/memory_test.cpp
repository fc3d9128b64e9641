// The caching allocator behind Storage: size classes, reuse of freed large buffers, the cache limit,
// and that tensors on reused memory behave as on fresh memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "descent/descent.h"

namespace descent {
namespace {

// Restores the default limit and an empty cache around each test (other tests share the process).
class Memory : public ::testing::Test {
 protected:
  void SetUp() override {
    limit_ = memory_cache_limit();
    empty_memory_cache();
    reset_memory_stats();
  }
  void TearDown() override {
    set_memory_cache_limit(limit_);
    empty_memory_cache();
  }
  std::size_t limit_ = 0;
};

TEST_F(Memory, SizeClassesAreEightPerPowerOfTwo) {
  EXPECT_EQ(memory::size_class(0), 0u);
  EXPECT_EQ(memory::size_class(65535), 0u);  // small: malloc
  EXPECT_EQ(memory::size_class(65536), 65536u);
  EXPECT_EQ(memory::size_class(65537), 65536u + 8192u);
  EXPECT_EQ(memory::size_class(100000), 106496u);  // 13 steps of 8 KiB
  EXPECT_EQ(memory::size_class(std::size_t{1} << 20), std::size_t{1} << 20);
  for (std::size_t n : {65536ul, 70000ul, 123457ul, 1000000ul, 7777777ul, 123456789ul}) {
    const std::size_t c = memory::size_class(n);
    EXPECT_GE(c, n);
    EXPECT_LE(c, n + n / 8) << n;  // at most 12.5 % spare
    EXPECT_EQ(c % 4096, 0u) << n;  // whole pages
  }
}

TEST_F(Memory, AFreedLargeBufferServesTheNextRequestOfItsClass) {
  void* first = nullptr;
  {
    Tensor a = empty({1000, 100});  // 400000 bytes
    first = a.data_ptr<float>();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);
    EXPECT_EQ(memory_stats().in_use_bytes, memory::size_class(400000));
  }
  MemoryStats s = memory_stats();
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_EQ(s.cached_bytes, memory::size_class(400000));
  EXPECT_EQ(s.cache_misses, 1);
  EXPECT_EQ(s.cache_hits, 0);
  {
    Tensor b = empty({399000}, kFloat32);  // 1596000 bytes: another class
    Tensor c = empty({100001}, kFloat32);  // 400004 bytes: the same class as a
    EXPECT_EQ(c.data_ptr<float>(), first);
    EXPECT_NE(b.data_ptr<float>(), first);
  }
  s = memory_stats();
  EXPECT_EQ(s.cache_hits, 1);
  EXPECT_EQ(s.cache_misses, 2);
  EXPECT_EQ(s.peak_in_use_bytes, memory::size_class(400004) + memory::size_class(1596000));
  EXPECT_EQ(s.cached_bytes, s.peak_in_use_bytes);
  empty_memory_cache();
  EXPECT_EQ(memory_stats().cached_bytes, 0u);
}

TEST_F(Memory, SmallBuffersAreCountedButNotCached) {
  const std::int64_t before = memory_stats().allocations;
  { Tensor t = ones({10, 10}); }
  const MemoryStats s = memory_stats();
  EXPECT_EQ(s.allocations, before + 1);
  EXPECT_EQ(s.cached_bytes, 0u);
  EXPECT_EQ(s.cache_misses, 0);
}

// Up to 64 bytes a tensor's data live inside its Storage: aligned as any buffer, separate per
// tensor, not an allocation; one byte more and it is one.
TEST_F(Memory, TinyBuffersLiveInsideTheirStorage) {
  for (std::int64_t n = 0; n <= 20; ++n) {
    const std::int64_t before = memory_stats().allocations;
    Tensor a = full({n}, 1.0);
    Tensor b = full({n}, 2.0);
    EXPECT_EQ(memory_stats().allocations - before, 4 * n > 64 ? 2 : 0) << n << " floats";
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data_ptr<float>()) % 64, 0u) << n;
    EXPECT_EQ(a.impl()->storage->nbytes(), static_cast<std::size_t>(4 * n));
    for (std::int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(a.data_ptr<float>()[i], 1.0f);
      EXPECT_EQ(b.data_ptr<float>()[i], 2.0f);
    }
    Tensor view = a.reshape({1, n});  // a view shares the inline buffer
    EXPECT_EQ(view.data_ptr<float>(), a.data_ptr<float>());
  }
}

TEST_F(Memory, TheLimitEvictsTheLargestBuffersFirst) {
  set_memory_cache_limit(3u << 20);  // 3 MiB
  {
    Tensor big = empty({1 << 19});    // 2 MiB
    Tensor small = empty({1 << 17});  // 512 KiB
    Tensor mid = empty({1 << 18});    // 1 MiB
  }
  // Freed in reverse order: mid (1 MiB), small (0.5), then big (2) does not fit next to them, so
  // the largest cached buffers go first (mid), leaving big + small = 2.5 MiB.
  EXPECT_EQ(memory_stats().cached_bytes, (2u << 20) + (512u << 10));
  set_memory_cache_limit(1u << 20);  // lowering the limit evicts at once
  EXPECT_EQ(memory_stats().cached_bytes, 512u << 10);
  set_memory_cache_limit(0);  // no caching at all
  EXPECT_EQ(memory_stats().cached_bytes, 0u);
  { Tensor t = empty({1 << 18}); }
  EXPECT_EQ(memory_stats().cached_bytes, 0u);
  EXPECT_EQ(memory_stats().in_use_bytes, 0u);
}

TEST_F(Memory, ABufferLargerThanTheLimitIsNeverCached) {
  set_memory_cache_limit(1u << 20);
  { Tensor t = empty({1 << 20}); }  // 4 MiB
  EXPECT_EQ(memory_stats().cached_bytes, 0u);
}

TEST_F(Memory, ReusedMemoryGivesTheSameResultsAsFreshMemory) {
  // zeros() on a buffer that held other values must still be zeros, and ops must not depend on
  // what a reused buffer held.
  const Tensor a = arange(0, 40000, 1, kFloat32).reshape({200, 200});
  const Tensor fresh = matmul(a, a.t()) + 1;
  { Tensor junk = full({200, 200}, 7.0f); }
  { Tensor junk = full({40000}, -3.0f); }
  EXPECT_EQ(zeros({200, 200}).to_vector<float>(), std::vector<float>(40000, 0.0f));
  EXPECT_EQ((matmul(a, a.t()) + 1).to_vector<float>(), fresh.to_vector<float>());
}

TEST_F(Memory, ThreadsAllocatingAndFreeingTogetherKeepTheCountsRight) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        Tensor x = full({(1 << 14) + 1024 * (i % 5)}, static_cast<float>(t));
        ASSERT_EQ(x.data_ptr<float>()[100], static_cast<float>(t));
      }
    });
  }
  for (auto& th : threads) th.join();
  const MemoryStats s = memory_stats();
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_EQ(s.cache_hits + s.cache_misses, 800);
  EXPECT_LE(s.cache_misses, 4 * 5);  // at most one miss per thread and class
}

}  // namespace
}  // namespace descent
