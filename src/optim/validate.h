#pragma once
// Option checks with PyTorch's wording, prefixed by the optimizer's name:
// "Adam: invalid beta parameter at index 0: 1.5 (expected 0 <= beta < 1)".

#include <string_view>
#include <utility>

#include "internal/check.h"

namespace descent::optim::detail {

/// value >= 0 (NaN fails too).
inline void check_nonnegative(std::string_view owner, std::string_view what, double value) {
  DESCENT_CHECK_VALUE(value >= 0.0, "{}: invalid {}: {} (expected >= 0)", owner, what, value);
}

inline void check_lr(std::string_view owner, double lr) { check_nonnegative(owner, "learning rate", lr); }

/// eps > 0.
inline void check_eps(std::string_view owner, double eps) {
  DESCENT_CHECK_VALUE(eps > 0.0, "{}: invalid epsilon value: {} (expected > 0)", owner, eps);
}

/// 0 <= beta < 1 for both betas.
inline void check_betas(std::string_view owner, const std::pair<double, double>& betas) {
  DESCENT_CHECK_VALUE(betas.first >= 0.0 && betas.first < 1.0,
                      "{}: invalid beta parameter at index 0: {} (expected 0 <= beta < 1)", owner, betas.first);
  DESCENT_CHECK_VALUE(betas.second >= 0.0 && betas.second < 1.0,
                      "{}: invalid beta parameter at index 1: {} (expected 0 <= beta < 1)", owner, betas.second);
}

}  // namespace descent::optim::detail
