#include "descent/nn/dropout.h"

#include "descent/autograd/grad_mode.h"
#include "descent/ops/elementwise.h"
#include "nn/assign.h"
#include "nn/layers/common.h"

namespace descent::nn {

namespace {
void check_p(double p, const char* kind) {
  DESCENT_CHECK_VALUE(p >= 0.0 && p <= 1.0, "{}: p must be in [0, 1], got {}", kind, p);
}

// [u < 1 - p] / (1 - p) of the given shape: kept entries are scaled so that E[y] = x. p = 1 zeroes
// everything.
Tensor keep_mask(const Shape& shape, double p, Generator& generator, DType dtype) {
  NoGradGuard no_grad;
  const double keep = 1.0 - p;
  const Tensor mask = lt(rand(shape, generator, dtype), keep);
  return keep > 0.0 ? mul(mask, 1.0 / keep) : mask;
}
}  // namespace

Dropout::Dropout(const DropoutOptions& options) : options_(options), generator_(0) {
  check_p(options.p, "Dropout");
  generator_.manual_seed(default_generator().next_u64());
}

Dropout::Dropout(const DropoutOptions& options, const Generator& generator) : options_(options), generator_(generator) {
  check_p(options.p, "Dropout");
}

Tensor Dropout::forward(const Tensor& input) {
  DESCENT_CHECK_VALUE(input.defined(), "{}: the input is an undefined tensor", name());
  if (!is_training() || options_.p == 0.0) return input;
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "{}: expected a floating input, got {}", name(),
                      dtype_name(input.dtype()));
  return mul(input, keep_mask(input.shape(), options_.p, generator_, input.dtype()));
}

std::string Dropout::extra_repr() const { return "p=" + detail::py_float(options_.p); }

// --- Dropout2d ------------------------------------------------------------------------------------

Dropout2d::Dropout2d(const DropoutOptions& options) : options_(options), generator_(0) {
  check_p(options.p, "Dropout2d");
  generator_.manual_seed(default_generator().next_u64());
}

Dropout2d::Dropout2d(const DropoutOptions& options, const Generator& generator)
    : options_(options), generator_(generator) {
  check_p(options.p, "Dropout2d");
}

Tensor Dropout2d::forward(const Tensor& input) {
  DESCENT_CHECK_VALUE(input.defined(), "{}: the input is an undefined tensor", name());
  DESCENT_CHECK_SHAPE(input.dim() == 3 || input.dim() == 4,
                      "{}: expected an input of shape [N, C, H, W] or [C, H, W], got {}", name(), input.shape());
  if (!is_training() || options_.p == 0.0) return input;
  DESCENT_CHECK_DTYPE(is_floating(input.dtype()), "{}: expected a floating input, got {}", name(),
                      dtype_name(input.dtype()));
  // One draw per channel ([N, C, 1, 1], or [C, 1, 1] unbatched), broadcast over the feature map.
  Shape mask_shape = input.shape();
  mask_shape[mask_shape.size() - 1] = 1;
  mask_shape[mask_shape.size() - 2] = 1;
  return mul(input, keep_mask(mask_shape, options_.p, generator_, input.dtype()));
}

std::string Dropout2d::extra_repr() const { return "p=" + detail::py_float(options_.p); }

}  // namespace descent::nn
