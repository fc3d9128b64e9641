#pragma once
// Checks analytic gradients against float64 central differences, like torch.autograd.gradcheck.

#include <functional>
#include <string>
#include <vector>

#include "descent/core/tensor.h"

namespace descent {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  std::uint64_t seed = 0;  // seeds the random projection of non-scalar outputs
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;
  /// Which input and element failed first, with both values; empty when ok.
  std::string message;
  explicit operator bool() const { return ok; }
};

/// For every float64 input that requires grad, compares the gradient that backward computes with
/// central differences (f(x + eps) - f(x - eps)) / 2 eps, element by element. A non-scalar output
/// y is projected onto a fixed random direction v (the check is of the vector-Jacobian product
/// v^T J, which catches any wrong Jacobian entry with probability 1). Inputs may be non-contiguous
/// views; they are perturbed in place and restored.
///
///   auto r = gradcheck([](const std::vector<Tensor>& in) { return tanh(in[0]); }, {x});
///   if (!r) std::cerr << r.message;
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

/// The central difference (f() at x[i] + eps - f() at x[i] - eps) / 2 eps: the derivative of a
/// scalar f with respect to element i (flat, row-major) of x, which f reads. x is changed in place
/// and restored, also when f throws. The loop of gradcheck and of `descent gradcheck`. ValueError
/// unless eps is positive and finite; IndexError when i is not below x.numel().
double central_difference(const Tensor& x, std::int64_t i, double eps, const std::function<double()>& f);

}  // namespace descent
