#pragma once
// Checks at the API boundary. The message is formatted (with fmt) only when the check fails, and
// shapes print as [2, 3]: DESCENT_CHECK_SHAPE(ok, "matmul: inner dimensions differ: lhs {} vs rhs {}", a, b).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cassert>

#include "descent/core/error.h"

#define DESCENT_CHECK_AS(ErrorType, cond, ...)                 \
  do {                                                         \
    if (!(cond)) [[unlikely]] {                                \
      throw ::descent::ErrorType(::fmt::format(__VA_ARGS__));  \
    }                                                          \
  } while (false)

#define DESCENT_CHECK_SHAPE(cond, ...) DESCENT_CHECK_AS(ShapeError, cond, __VA_ARGS__)
#define DESCENT_CHECK_DTYPE(cond, ...) DESCENT_CHECK_AS(DTypeError, cond, __VA_ARGS__)
#define DESCENT_CHECK_INDEX(cond, ...) DESCENT_CHECK_AS(IndexError, cond, __VA_ARGS__)
#define DESCENT_CHECK_VALUE(cond, ...) DESCENT_CHECK_AS(ValueError, cond, __VA_ARGS__)
#define DESCENT_CHECK_AUTOGRAD(cond, ...) DESCENT_CHECK_AS(AutogradError, cond, __VA_ARGS__)

// Internal invariants: compiled out under NDEBUG, never used for user errors.
#define DESCENT_DCHECK(cond) assert(cond)
