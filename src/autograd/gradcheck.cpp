#include "descent/autograd/gradcheck.h"

#include <cmath>

#include "descent/autograd/grad_mode.h"
#include "descent/core/generator.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "internal/check.h"

namespace descent {

namespace {
// The scalar whose gradient is checked: sum(fn(x) * v) for a fixed random v (or fn(x) itself if
// the output has one element).
double projected(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
                 const Tensor& v) {
  NoGradGuard no_grad;
  const Tensor y = fn(inputs);
  DESCENT_CHECK_SHAPE(y.shape() == v.shape(), "gradcheck: the function's output shape changed from {} to {}",
                      v.shape(), y.shape());
  return sum(mul(y, v)).item();
}

// Puts the inputs' .grad() back as it was when gradcheck returns or throws: like
// torch.autograd.gradcheck, the check leaves accumulated gradients alone.
class GradRestorer {
 public:
  explicit GradRestorer(const std::vector<Tensor>& inputs) : inputs_(inputs) {
    for (const Tensor& x : inputs_) saved_.push_back(x.defined() ? x.grad() : Tensor());
  }
  ~GradRestorer() {
    for (std::size_t k = 0; k < inputs_.size(); ++k) {
      if (inputs_[k].defined()) inputs_[k].set_grad(saved_[k]);
    }
  }
  GradRestorer(const GradRestorer&) = delete;
  GradRestorer& operator=(const GradRestorer&) = delete;

 private:
  const std::vector<Tensor>& inputs_;
  std::vector<Tensor> saved_;
};
}  // namespace

double central_difference(const Tensor& x, std::int64_t i, double eps, const std::function<double()>& f) {
  DESCENT_CHECK_VALUE(eps > 0 && std::isfinite(eps), "central_difference: eps must be positive and finite, got {}",
                      eps);
  const double original = x.flat(i);  // IndexError naming i and the size when i is out of range
  double plus = 0.0, minus = 0.0;
  try {
    x.set_flat(i, original + eps);
    plus = f();
    x.set_flat(i, original - eps);
    minus = f();
  } catch (...) {
    x.set_flat(i, original);  // the input is left as it was, whatever f does
    throw;
  }
  x.set_flat(i, original);
  return (plus - minus) / (2 * eps);
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  DESCENT_CHECK_VALUE(options.eps > 0, "gradcheck: eps must be positive, got {}", options.eps);
  bool any = false;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    any = true;
    DESCENT_CHECK_DTYPE(x.dtype() == kFloat64,
                        "gradcheck: input {} has dtype {}; finite differences need float64 inputs", k,
                        dtype_name(x.dtype()));
    DESCENT_CHECK_AUTOGRAD(x.is_leaf(), "gradcheck: input {} must be a leaf tensor", k);
  }
  DESCENT_CHECK_VALUE(any, "gradcheck: no input requires grad, so there is nothing to check");

  const GradRestorer restore_grads(inputs);
  // Analytic: one backward of sum(y * v).
  for (const Tensor& x : inputs) {
    if (x.defined() && x.requires_grad()) x.set_grad(Tensor());
  }
  const Tensor y = fn(inputs);
  DESCENT_CHECK_DTYPE(y.dtype() == kFloat64, "gradcheck: the function returned dtype {}; expected float64",
                      dtype_name(y.dtype()));
  Generator generator(options.seed);
  const Tensor v = y.numel() == 1 ? ones(y.shape(), kFloat64) : randn(y.shape(), generator, kFloat64);
  if (y.requires_grad()) y.backward(v);

  GradcheckResult result;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    const Tensor analytic = x.grad();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const double numeric = central_difference(x, i, options.eps, [&] { return projected(fn, inputs, v); });
      const double a = analytic.defined() ? analytic.flat(i) : 0.0;
      const double abs_error = std::abs(a - numeric);
      const double rel_error = abs_error / std::max(std::abs(numeric), 1e-12);
      result.max_abs_error = std::max(result.max_abs_error, abs_error);
      if (abs_error > options.atol) result.max_rel_error = std::max(result.max_rel_error, rel_error);
      const bool close = abs_error <= options.atol + options.rtol * std::abs(numeric);
      if ((!close || std::isnan(a) != std::isnan(numeric)) && result.ok) {
        result.ok = false;
        result.message = fmt::format(
            "gradcheck: input {} (shape {}), element {}: analytic gradient {} vs numerical {} (abs error {:.3g})", k,
            x.shape(), i, a, numeric, abs_error);
      }
    }
  }
  return result;
}

}  // namespace descent
