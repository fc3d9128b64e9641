#pragma once
// descent gradcheck CONFIG: builds the model, the loss and a small batch exactly as `descent train`
// does, converts them to float64, and compares every parameter's backpropagated gradient with
// central finite differences of the loss, element by element (all elements of small tensors, a
// seeded sample of large ones). Prints one row per parameter tensor and PASS (exit 0) or FAIL
// (exit 1). See docs/gradcheck.md.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::cli {

struct GradcheckArgs {
  std::string config;
  std::vector<std::string> overrides;  // --set key=value
  std::int64_t batch = 4;              // the first N training examples
  double eps = 1e-6;                   // finite-difference step
  double atol = 1e-5;                  // pass when |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  std::optional<std::uint64_t>
      seed;                     // as --set seed=S (initialization, validation split) and picks the sampled elements
  std::int64_t elements = 200;  // at most this many elements per tensor (all of a smaller tensor)
  bool eval = false;            // evaluation mode (dropout off, batch norm's running statistics)
};
int gradcheck_command(const GradcheckArgs& args, std::ostream& out, std::ostream& err);

// --- the check itself, usable on any loss and parameters (the tests feed it wrong gradients) -------

struct ParameterGradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  std::int64_t max_elements = 200;  // per tensor; larger tensors are sampled without replacement
  std::uint64_t seed = 0;           // which elements are sampled
};

struct ParameterCheck {
  std::string name;
  Shape shape;
  std::int64_t checked = 0;      // elements compared (numel when <= max_elements)
  std::int64_t failures = 0;     // elements outside the tolerance
  double max_abs_error = 0;      // max |analytic - numeric|
  double max_rel_error = 0;      // max |analytic - numeric| / max(|analytic|, |numeric|, atol)
  std::int64_t worst_index = 0;  // flat index of the element closest to (or furthest past) the tolerance
  double worst_analytic = 0, worst_numeric = 0;
  bool ok() const { return failures == 0; }
};

struct GradcheckReport {
  double loss = 0;  // the unperturbed loss
  std::vector<ParameterCheck> parameters;
  bool ok() const;
  std::int64_t checked() const;
};

/// Runs loss() once with autograd and backpropagates (clearing the parameters' gradients first),
/// then, for each parameter element checked, sets it to x + eps and x - eps in place and runs loss()
/// under NoGradGuard: numeric = (L(x + eps) - L(x - eps)) / (2 eps); the value is restored even when
/// loss() throws. loss() must return a float64 scalar and be deterministic. Parameters must be
/// float64 leaves that require grad (DTypeError / ValueError otherwise); a parameter that gets no
/// gradient is compared as 0. Throws ValueError for eps <= 0, atol or rtol < 0, max_elements <= 0.
GradcheckReport check_parameter_gradients(const std::function<Tensor()>& loss,
                                          const std::vector<std::pair<std::string, Tensor>>& parameters,
                                          const ParameterGradcheckOptions& options = {});

/// The table and the verdict line, as gradcheck_command prints them.
std::string format_gradcheck_report(const GradcheckReport& report, const ParameterGradcheckOptions& options);

}  // namespace descent::cli
