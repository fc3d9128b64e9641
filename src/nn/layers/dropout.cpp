#include "descent/nn/dropout.h"

#include "descent/autograd/grad_mode.h"
#include "descent/ops/elementwise.h"
#include "nn/assign.h"
#include "nn/layers/common.h"

namespace descent::nn {

namespace {
void check_p(double p) {
  DESCENT_CHECK_VALUE(p >= 0.0 && p <= 1.0, "Dropout: p must be in [0, 1], got {}", p);
}
}  // namespace

Dropout::Dropout(const DropoutOptions& options) : options_(options), generator_(0) {
  check_p(options.p);
  generator_.manual_seed(default_generator().next_u64());
}

Dropout::Dropout(const DropoutOptions& options, const Generator& generator) : options_(options), generator_(generator) {
  check_p(options.p);
}

Tensor Dropout::forward(const Tensor& input) {
  DESCENT_CHECK_VALUE(input.defined(), "{}: the input is an undefined tensor", name());
  if (!is_training() || options_.p == 0.0) return input;
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "{}: expected a floating input, got {}", name(),
                      dtype_name(input.dtype()));
  // mask = [u < 1 - p] / (1 - p): kept elements are scaled so that E[y] = x. p = 1 zeroes everything.
  Tensor mask;
  {
    NoGradGuard no_grad;
    const double keep = 1.0 - options_.p;
    mask = lt(rand(input.shape(), generator_, input.dtype()), keep);
    mask = keep > 0.0 ? mul(mask, 1.0 / keep) : mask;
  }
  return mul(input, mask);
}

std::string Dropout::extra_repr() const { return "p=" + detail::py_float(options_.p); }

}  // namespace descent::nn
