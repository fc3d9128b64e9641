#pragma once
// The exceptions descent throws for user errors. Every message names the op and the
// offending shapes, dtypes, file or key, so that the message alone explains the mistake.

#include <stdexcept>
#include <string>

namespace descent {

/// Root of descent's exception hierarchy; catch this to handle any user error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Shapes that do not fit an op: `matmul: inner dimensions differ: lhs [2, 3] vs rhs [4, 5]`.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A dtype an op does not accept, or two operands of different dtypes.
class DTypeError : public Error {
 public:
  using Error::Error;
};

/// An index or dimension outside its valid range.
class IndexError : public Error {
 public:
  using Error::Error;
};

/// Misuse of the autograd graph: backward through a released graph, a non-scalar output without gradient, ...
class AutogradError : public Error {
 public:
  using Error::Error;
};

/// A bad argument value (negative size, eps <= 0, ...).
class ValueError : public Error {
 public:
  using Error::Error;
};

/// A file that cannot be read or written, or whose contents are corrupt.
class IOError : public Error {
 public:
  using Error::Error;
};

}  // namespace descent
