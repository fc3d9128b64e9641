// DimVector (shapes and strides): std::vector's behaviour whether the entries are inline or on the
// heap, and across the move from one to the other.
#include "descent/core/dim_vector.h"

#include <gtest/gtest.h>

#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

namespace descent {
namespace {

// 0..n-1, built by push_back (so it crosses the inline capacity when n > 6).
DimVector iota(std::size_t n) {
  DimVector v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(static_cast<std::int64_t>(i));
  return v;
}

std::vector<std::int64_t> iota_vec(std::size_t n) {
  std::vector<std::int64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(DimVector, BuildsLikeStdVector) {
  EXPECT_TRUE(DimVector().empty());
  EXPECT_EQ(DimVector(3).vec(), (std::vector<std::int64_t>{0, 0, 0}));
  EXPECT_EQ(DimVector(2, 7).vec(), (std::vector<std::int64_t>{7, 7}));
  EXPECT_EQ((DimVector{2, 7}).vec(), (std::vector<std::int64_t>{2, 7}));  // braces: the values
  const std::vector<std::int64_t> sizes{4, 5, 6};
  const DimVector from_vector = sizes;  // implicit, as a std::vector shape converts
  EXPECT_EQ(from_vector.vec(), sizes);
  EXPECT_EQ(DimVector(sizes.begin() + 1, sizes.end()).vec(), (std::vector<std::int64_t>{5, 6}));
}

TEST(DimVector, GrowsPastItsInlineCapacityAndKeepsTheEntries) {
  for (std::size_t n : {0u, 1u, 5u, 6u, 7u, 13u, 40u}) {
    DimVector v = iota(n);
    EXPECT_EQ(v.size(), n);
    EXPECT_GE(v.capacity(), n);
    EXPECT_EQ(v.vec(), iota_vec(n)) << n;
    EXPECT_EQ(v.capacity() == DimVector::kInlineCapacity, n <= DimVector::kInlineCapacity) << n;
  }
}

TEST(DimVector, CopiesAndMovesInlineAndHeapEntries) {
  for (std::size_t n : {3u, 6u, 9u}) {
    const DimVector original = iota(n);
    DimVector copy = original;
    EXPECT_EQ(copy, original);
    copy[0] = 100;  // a copy owns its entries
    EXPECT_EQ(original[0], 0);

    DimVector moved = std::move(copy);
    EXPECT_EQ(moved[0], 100);
    EXPECT_EQ(moved.size(), n);
    EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty and usable
    copy.push_back(1);
    EXPECT_EQ(copy.vec(), std::vector<std::int64_t>{1});

    DimVector assigned = iota(2);
    assigned = original;  // small <- any
    EXPECT_EQ(assigned, original);
    DimVector big = iota(20);
    big = std::move(assigned);  // heap <- any: the heap buffer is freed
    EXPECT_EQ(big, original);
    DimVector self = original;
    self = *&self;
    EXPECT_EQ(self, original);
    DimVector a = iota(2), b = iota(12);
    a.swap(b);
    EXPECT_EQ(a.vec(), iota_vec(12));
    EXPECT_EQ(b.vec(), iota_vec(2));
  }
}

TEST(DimVector, InsertsEraseAndResizesAsStdVector) {
  for (std::size_t n : {2u, 5u, 8u}) {
    DimVector v = iota(n);
    std::vector<std::int64_t> expected = iota_vec(n);
    v.insert(v.begin() + 1, 42);
    expected.insert(expected.begin() + 1, 42);
    v.insert(v.end(), 2, -1);
    expected.insert(expected.end(), 2, -1);
    v.insert(v.begin(), {7, 8, 9});
    expected.insert(expected.begin(), {7, 8, 9});
    EXPECT_EQ(v.vec(), expected);
    v.erase(v.begin() + 2);
    expected.erase(expected.begin() + 2);
    v.erase(v.begin(), v.begin() + 3);
    expected.erase(expected.begin(), expected.begin() + 3);
    EXPECT_EQ(v.vec(), expected);
    v.resize(n + 10, 3);
    expected.resize(n + 10, 3);
    EXPECT_EQ(v.vec(), expected);
    v.resize(1);
    expected.resize(1);
    EXPECT_EQ(v.vec(), expected);
    v.pop_back();
    EXPECT_TRUE(v.empty());
  }
}

TEST(DimVector, InsertsARangeOfItself) {
  for (std::size_t n : {3u, 5u}) {  // the copy crosses into the heap, moving the entries read
    DimVector v = iota(n);
    std::vector<std::int64_t> expected = iota_vec(n);
    v.insert(v.begin() + 1, v.begin(), v.end());
    const std::vector<std::int64_t> copy = expected;
    expected.insert(expected.begin() + 1, copy.begin(), copy.end());
    EXPECT_EQ(v.vec(), expected);
  }
}

TEST(DimVector, ComparesAndIteratesAsStdVector) {
  const DimVector a{2, 3}, b{2, 4}, c{2, 3, 1};
  EXPECT_EQ(a, (DimVector{2, 3}));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(a, c);
  EXPECT_EQ(a, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(std::vector<std::int64_t>(c.rbegin(), c.rend()), (std::vector<std::int64_t>{1, 3, 2}));
  EXPECT_EQ(c.front(), 2);
  EXPECT_EQ(c.back(), 1);
  EXPECT_EQ(c.at(2), 1);
  EXPECT_THROW((void)c.at(3), std::out_of_range);
}

// Sizes are 32-bit: asking for more entries throws before anything is allocated, where a silent
// truncation would have corrupted the vector.
TEST(DimVector, MoreEntriesThanItsSizesHoldThrow) {
  DimVector v{1, 2, 3};
  const std::size_t too_many = std::size_t{1} << 32;
  EXPECT_EQ(v.max_size(), too_many - 1);
  EXPECT_THROW(v.reserve(too_many), std::length_error);
  EXPECT_THROW(v.resize(too_many), std::length_error);
  EXPECT_THROW(v.insert(v.begin(), too_many - 2, std::int64_t{7}), std::length_error);
  // A count whose sum with the size wraps around size_t must throw too, not reserve a little.
  EXPECT_THROW(v.insert(v.begin(), std::numeric_limits<std::size_t>::max() - 1, std::int64_t{7}), std::length_error);
  EXPECT_EQ(v, (DimVector{1, 2, 3}));  // unchanged
  const DimVector empty{};
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.capacity(), DimVector::kInlineCapacity);
}

}  // namespace
}  // namespace descent
