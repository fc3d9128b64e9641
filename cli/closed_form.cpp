#include "closed_form.h"

#include <cmath>

#include "descent/core/error.h"

namespace descent::cli {

std::optional<LeastSquares> least_squares(const Tensor& inputs, const Tensor& targets, double l2) {
  if (inputs.dim() != 2) throw ShapeError("least_squares: the inputs must be [N, D]");
  const std::int64_t n = inputs.size(0), d = inputs.size(1);
  const std::int64_t t = targets.dim() == 1 ? 1 : targets.size(1);
  const std::vector<double> x = inputs.to(kFloat64).contiguous().to_vector<double>();
  const std::vector<double> y = targets.to(kFloat64).contiguous().to_vector<double>();
  const std::int64_t m = d + 1;  // the features and a 1 for the bias
  const auto feature = [&](std::int64_t i, std::int64_t j) { return j < d ? x[i * d + j] : 1.0; };

  // A = X^T X + lambda I (symmetric positive definite unless the features are collinear).
  const double lambda = static_cast<double>(n * t) * l2 / 2;
  std::vector<double> a(m * m, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t r = 0; r < m; ++r)
      for (std::int64_t c = 0; c <= r; ++c) a[r * m + c] += feature(i, r) * feature(i, c);
  for (std::int64_t r = 0; r < d; ++r) a[r * m + r] += lambda;  // the bias is not penalized
  // Cholesky: A = L L^T, L in the lower triangle of a.
  for (std::int64_t j = 0; j < m; ++j) {
    double diag = a[j * m + j];
    for (std::int64_t k = 0; k < j; ++k) diag -= a[j * m + k] * a[j * m + k];
    if (!(diag > 1e-12 * std::max(1.0, std::abs(a[j * m + j])))) return std::nullopt;
    a[j * m + j] = std::sqrt(diag);
    for (std::int64_t r = j + 1; r < m; ++r) {
      double v = a[r * m + j];
      for (std::int64_t k = 0; k < j; ++k) v -= a[r * m + k] * a[j * m + k];
      a[r * m + j] = v / a[j * m + j];
    }
  }

  LeastSquares out;
  double sse = 0, penalty = 0;
  for (std::int64_t col = 0; col < t; ++col) {
    std::vector<double> b(m, 0.0);  // X^T y
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t r = 0; r < m; ++r) b[r] += feature(i, r) * y[i * t + col];
    for (std::int64_t r = 0; r < m; ++r) {  // L z = b
      for (std::int64_t k = 0; k < r; ++k) b[r] -= a[r * m + k] * b[k];
      b[r] /= a[r * m + r];
    }
    for (std::int64_t r = m - 1; r >= 0; --r) {  // L^T theta = z
      for (std::int64_t k = r + 1; k < m; ++k) b[r] -= a[k * m + r] * b[k];
      b[r] /= a[r * m + r];
    }
    out.weight.emplace_back(b.begin(), b.begin() + d);
    out.bias.push_back(b[d]);
    for (std::int64_t i = 0; i < n; ++i) {
      double p = b[d];
      for (std::int64_t j = 0; j < d; ++j) p += b[j] * x[i * d + j];
      sse += (p - y[i * t + col]) * (p - y[i * t + col]);
    }
    for (std::int64_t j = 0; j < d; ++j) penalty += b[j] * b[j];
  }
  out.loss = sse / static_cast<double>(n * t) + 0.5 * l2 * penalty;
  return out;
}

}  // namespace descent::cli
