#include "descent/optim/clip.h"

#include <cmath>

#include "descent/autograd/grad_mode.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace descent::optim {

namespace {
// Applies f to every element of a gradient in place (contiguous fast path, else through a copy).
template <typename F>
void update_in_place(const Tensor& g, F f) {
  if (g.is_contiguous()) {
    kernels::dispatch_floating(g.dtype(), "clip_grad", [&]<typename T>() {
      T* p = g.data_ptr<T>();
      const std::int64_t n = g.numel();
      for (std::int64_t i = 0; i < n; ++i) p[i] = f(p[i]);
    });
    return;
  }
  kernels::copy_into(g, kernels::map_unary(g, "clip_grad", f));
}

double accumulate_norm(const Tensor& g, double norm_type) {
  return kernels::dispatch_floating(g.dtype(), "clip_grad_norm_", [&]<typename T>() {
    const std::vector<T> values = g.to_vector<T>();
    double acc = 0.0;
    for (T v : values) {
      const double a = std::abs(static_cast<double>(v));
      if (std::isinf(norm_type)) {
        acc = (a > acc || std::isnan(a)) ? a : acc;
      } else if (norm_type == 2.0) {
        acc += a * a;
      } else {
        acc += std::pow(a, norm_type);
      }
    }
    return acc;
  });
}
}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  DESCENT_CHECK_VALUE(max_norm >= 0, "clip_grad_norm_: max_norm must be non-negative, got {}", max_norm);
  DESCENT_CHECK_VALUE(norm_type > 0, "clip_grad_norm_: norm_type must be positive (or infinity), got {}", norm_type);
  double acc = 0.0;
  bool any = false;
  for (const Tensor& p : parameters) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    any = true;
    const double part = accumulate_norm(g, norm_type);
    acc = std::isinf(norm_type) ? ((part > acc || std::isnan(part)) ? part : acc) : acc + part;
  }
  if (!any) return 0.0;
  const double total = std::isinf(norm_type) ? acc : std::pow(acc, 1.0 / norm_type);
  DESCENT_CHECK_VALUE(!error_if_nonfinite || std::isfinite(total),
                      "clip_grad_norm_: the total norm of order {} of the gradients is {}, so they cannot be "
                      "clipped; set error_if_nonfinite=false to clip anyway",
                      norm_type, total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    for (const Tensor& p : parameters) {
      const Tensor g = p.grad();
      if (g.defined()) update_in_place(g, [coef](auto v) { return v * static_cast<decltype(v)>(coef); });
    }
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  DESCENT_CHECK_VALUE(clip_value >= 0, "clip_grad_value_: clip_value must be non-negative, got {}", clip_value);
  for (const Tensor& p : parameters) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    update_in_place(g, [clip_value](auto v) {
      using T = decltype(v);
      return std::isnan(v) ? v : std::min(std::max(v, static_cast<T>(-clip_value)), static_cast<T>(clip_value));
    });
  }
}

namespace {
Tensor penalty(const std::vector<Tensor>& parameters, bool l1, std::string_view name) {
  DESCENT_CHECK_VALUE(!parameters.empty(), "{}: no parameters given", name);
  Tensor total;
  for (const Tensor& p : parameters) {
    const Tensor term = sum(l1 ? abs(p) : mul(p, p));
    if (total.defined()) {
      kernels::check_same_dtype(total, term, name);
      total = add(total, term);
    } else {
      total = term;
    }
  }
  return total;
}
}  // namespace

Tensor l1_penalty(const std::vector<Tensor>& parameters) { return penalty(parameters, true, "l1_penalty"); }
Tensor l2_penalty(const std::vector<Tensor>& parameters) { return penalty(parameters, false, "l2_penalty"); }

}  // namespace descent::optim
