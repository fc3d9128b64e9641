#pragma once
// Elementwise arithmetic with NumPy broadcasting, as torch.add, torch.mul, ... Both operands must
// have the same floating dtype (descent does not promote: float32 + float64 is a DTypeError).
// Every op records its backward when an input requires gradients.

#include <optional>

#include "descent/core/tensor.h"

namespace descent {

/// a + alpha * b.  Shapes broadcast: [3, 1] + [4] -> [3, 4].
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);
Tensor add(const Tensor& a, double b);
/// a - alpha * b.
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);
Tensor sub(const Tensor& a, double b);
/// b - a (torch.rsub): a scalar minus a tensor.
Tensor rsub(const Tensor& a, double b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, double b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, double b);
/// b / a for a scalar b.
Tensor rdiv(const Tensor& a, double b);
Tensor neg(const Tensor& x);
/// x ** exponent; d/dx = exponent * x ** (exponent - 1).
Tensor pow(const Tensor& x, double exponent);
/// x ** y elementwise; d/dy = x ** y * log(x).
Tensor pow(const Tensor& x, const Tensor& y);
Tensor exp(const Tensor& x);
/// Sine and cosine (radians).
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
/// Natural logarithm; -inf at 0, NaN below.
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
/// |x|; the gradient at 0 is 0, as in PyTorch.
Tensor abs(const Tensor& x);
/// Limits x to [min, max] (either bound may be absent); the gradient is 1 inside, 0 outside.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
/// cond ? a : b elementwise (cond nonzero means true), all three broadcast together.
/// cond carries no gradient.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons return 1 or 0 in the dtype of a (descent has no bool dtype); no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
inline Tensor operator-(double a, const Tensor& b) { return rsub(b, a); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator/(const Tensor& a, double b) { return div(a, b); }
inline Tensor operator/(double a, const Tensor& b) { return rdiv(b, a); }
inline Tensor operator-(const Tensor& x) { return neg(x); }

}  // namespace descent
