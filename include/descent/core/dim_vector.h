#pragma once
// DimVector: the sizes or the strides of a tensor, a vector of int64 that keeps up to six entries
// inside itself, as PyTorch's DimVector (c10::SmallVector<int64_t, 5>). Every tensor has a shape and
// strides, and every autograd edge a shape: as std::vectors they were three heap allocations per
// tensor, and malloc and free a third of a small network's step (docs/benchmarks.md). Longer vectors
// move to the heap. The interface is std::vector's, the parts shapes use.

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <vector>

namespace descent {

class DimVector {
 public:
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = value_type&;
  using const_reference = const value_type&;
  using pointer = value_type*;
  using const_pointer = const value_type*;
  using iterator = value_type*;
  using const_iterator = const value_type*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  /// Entries held without a heap allocation (6-D covers every layer descent has).
  static constexpr size_type kInlineCapacity = 6;

  // User-provided, not defaulted: `Shape{}` would otherwise zero the unused inline entries.
  DimVector() noexcept {}  // NOLINT(modernize-use-equals-default)
  explicit DimVector(size_type n, value_type value = 0) { assign(n, value); }
  DimVector(std::initializer_list<value_type> values) { assign(values.begin(), values.end()); }
  template <std::input_iterator It>
  DimVector(It first, It last) {
    assign(first, last);
  }
  /// Implicit, so that a std::vector of sizes is accepted wherever a shape is.
  DimVector(const std::vector<value_type>& values) { assign(values.begin(), values.end()); }  // NOLINT
  DimVector(const DimVector& other) { assign(other.begin(), other.end()); }
  DimVector(DimVector&& other) noexcept { take(other); }
  DimVector& operator=(const DimVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  DimVector& operator=(DimVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  DimVector& operator=(std::initializer_list<value_type> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  ~DimVector() { release(); }

  /// A std::vector with the same entries.
  std::vector<value_type> vec() const { return {begin(), end()}; }

  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return capacity_; }
  size_type max_size() const noexcept { return kMaxSize; }
  value_type* data() noexcept { return data_; }
  const value_type* data() const noexcept { return data_; }

  reference operator[](size_type i) noexcept { return data_[i]; }
  const_reference operator[](size_type i) const noexcept { return data_[i]; }
  reference at(size_type i) { return data_[checked(i)]; }
  const_reference at(size_type i) const { return data_[checked(i)]; }
  reference front() noexcept { return data_[0]; }
  const_reference front() const noexcept { return data_[0]; }
  reference back() noexcept { return data_[size_ - 1]; }
  const_reference back() const noexcept { return data_[size_ - 1]; }

  iterator begin() noexcept { return data_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator cbegin() const noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

  void reserve(size_type n) {
    if (n > capacity_) grow(n);
  }
  void clear() noexcept { size_ = 0; }
  void resize(size_type n, value_type value = 0) {
    reserve(n);
    if (n > size_) std::fill(data_ + size_, data_ + n, value);
    size_ = static_cast<std::uint32_t>(n);
  }
  void push_back(value_type value) {
    if (size_ == capacity_) reserve_more(1);
    data_[size_++] = value;
  }
  reference emplace_back(value_type value) {
    push_back(value);
    return back();
  }
  void pop_back() noexcept { --size_; }

  void assign(size_type n, value_type value) {
    clear();
    resize(n, value);
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    if constexpr (std::forward_iterator<It>) reserve(static_cast<size_type>(std::distance(first, last)));
    for (; first != last; ++first) push_back(*first);
  }

  iterator insert(const_iterator pos, value_type value) { return insert(pos, size_type{1}, value); }
  iterator insert(const_iterator pos, size_type n, value_type value) {
    const size_type at = open_gap(pos, n);
    std::fill(data_ + at, data_ + at + n, value);
    return data_ + at;
  }
  template <std::forward_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const DimVector values(first, last);  // the range may lie in this vector, which may move
    const size_type at = open_gap(pos, values.size());
    std::copy(values.begin(), values.end(), data_ + at);
    return data_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<value_type> values) {
    return insert(pos, values.begin(), values.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    iterator out = data_ + (first - data_);
    std::copy(last, cend(), out);
    size_ -= static_cast<std::uint32_t>(last - first);
    return out;
  }

  void swap(DimVector& other) noexcept {
    DimVector tmp(std::move(other));
    other = std::move(*this);
    *this = std::move(tmp);
  }

  friend bool operator==(const DimVector& a, const DimVector& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend std::strong_ordering operator<=>(const DimVector& a, const DimVector& b) noexcept {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  size_type checked(size_type i) const {
    if (i >= size_) throw std::out_of_range("DimVector::at: index out of range");
    return i;
  }
  // Sizes are kept in 32 bits: more entries throw, as std::vector past its max_size(), before
  // anything changes.
  [[noreturn]] static void throw_too_long() { throw std::length_error("DimVector: more than 2^32 - 1 entries"); }
  // Room for n entries after the current ones (size_ + n computed without wrapping around).
  void reserve_more(size_type n) {
    if (n > kMaxSize - size_) throw_too_long();
    reserve(size_ + n);
  }
  // Moves the heap (or a larger heap) and keeps the entries.
  void grow(size_type min_capacity) {
    if (min_capacity > kMaxSize) throw_too_long();
    const size_type capacity = std::clamp<size_type>(2 * static_cast<size_type>(capacity_), min_capacity, kMaxSize);
    auto* bigger = new value_type[capacity];
    std::copy(data_, data_ + size_, bigger);
    if (data_ != inline_) delete[] data_;
    data_ = bigger;
    capacity_ = static_cast<std::uint32_t>(capacity);
  }
  // Makes room for n entries before pos; returns pos's index.
  size_type open_gap(const_iterator pos, size_type n) {
    const auto at = static_cast<size_type>(pos - data_);
    reserve_more(n);
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + n);
    size_ += static_cast<std::uint32_t>(n);
    return at;
  }
  void release() noexcept {
    if (data_ != inline_) delete[] data_;
    data_ = inline_;
    capacity_ = kInlineCapacity;
    size_ = 0;
  }
  // Takes other's entries (its heap buffer if it has one) and leaves it empty and inline.
  void take(DimVector& other) noexcept {
    if (other.data_ == other.inline_) {
      std::copy(other.inline_, other.inline_ + other.size_, inline_);
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
      other.data_ = other.inline_;
      other.capacity_ = kInlineCapacity;
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  static constexpr size_type kMaxSize = std::numeric_limits<std::uint32_t>::max();

  value_type* data_ = inline_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInlineCapacity;
  value_type inline_[kInlineCapacity];
};

}  // namespace descent
