// L-BFGS as torch.optim.LBFGS (1.13): the same iteration, the same stopping rules in the same
// order, and the same strong-Wolfe line search (_strong_wolfe and _cubic_interpolate, after
// minFunc). Scalars (dot products, step lengths, curvature terms) are doubles; vectors are flat
// tensors in the parameters' dtype.

#include "descent/optim/lbfgs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>

#include "descent/autograd/grad_mode.h"
#include "descent/ops/shape.h"
#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "optim/state_dict.h"
#include "optim/validate.h"

namespace descent::optim {

namespace {

template <typename T>
double dot(const Tensor& a, const Tensor& b) {
  const T* x = a.data_ptr<T>();
  const T* y = b.data_ptr<T>();
  double s = 0;
  for (std::int64_t j = 0, n = a.numel(); j < n; ++j) s += static_cast<double>(x[j]) * static_cast<double>(y[j]);
  return s;
}

template <typename T>
double abs_max(const Tensor& a) {
  const T* x = a.data_ptr<T>();
  double m = 0;
  for (std::int64_t j = 0, n = a.numel(); j < n; ++j) {
    const double v = std::abs(static_cast<double>(x[j]));
    if (std::isnan(v)) return v;
    m = std::max(m, v);
  }
  return m;
}

template <typename T>
double abs_sum(const Tensor& a) {
  const T* x = a.data_ptr<T>();
  double s = 0;
  for (std::int64_t j = 0, n = a.numel(); j < n; ++j) s += std::abs(static_cast<double>(x[j]));
  return s;
}

/// out = alpha * a (a new flat tensor).
template <typename T>
Tensor scaled(const Tensor& a, double alpha) {
  Tensor out = empty(a.shape(), a.dtype());
  const T* x = a.data_ptr<T>();
  T* y = out.data_ptr<T>();
  const T s = static_cast<T>(alpha);
  for (std::int64_t j = 0, n = a.numel(); j < n; ++j) y[j] = x[j] * s;
  return out;
}

/// a += alpha * b in place.
template <typename T>
void axpy(const Tensor& a, double alpha, const Tensor& b) {
  T* x = a.data_ptr<T>();
  const T* y = b.data_ptr<T>();
  const T s = static_cast<T>(alpha);
  for (std::int64_t j = 0, n = a.numel(); j < n; ++j) x[j] = x[j] + s * y[j];
}

/// The minimizer of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to the bounds
/// (by default the interval between x1 and x2).
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = std::nullopt) {
  const auto [xmin_bound, xmax_bound] = bounds ? *bounds : (x1 <= x2 ? std::pair{x1, x2} : std::pair{x2, x1});
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0) {
    const double d2 = std::sqrt(d2_square);
    double min_pos;
    if (x1 <= x2) {
      min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    } else {
      min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    }
    return std::min(std::max(min_pos, xmin_bound), xmax_bound);
  }
  return (xmin_bound + xmax_bound) / 2.;
}

struct Evaluation {
  double f;
  Tensor g;
};

struct LineSearchResult {
  double f;
  Tensor g;
  double t;
  std::int64_t evals;
};

/// _strong_wolfe: obj(t) evaluates the loss and flat gradient at x + t d (and restores x).
template <typename T, typename Obj>
LineSearchResult strong_wolfe(Obj&& obj, double t, const Tensor& d, double f, const Tensor& g_in, double gtd,
                              double c1 = 1e-4, double c2 = 0.9, double tolerance_change = 1e-9, int max_ls = 25) {
  const double d_norm = abs_max<T>(d);
  const Tensor g = g_in.clone();
  Evaluation e = obj(t);
  double f_new = e.f;
  Tensor g_new = e.g;
  std::int64_t ls_func_evals = 1;
  double gtd_new = dot<T>(g_new, d);

  double t_prev = 0, f_prev = f, gtd_prev = gtd;
  Tensor g_prev = g;
  bool done = false;
  int ls_iter = 0;
  std::vector<double> bracket, bracket_f, bracket_gtd;
  std::vector<Tensor> bracket_g;
  while (ls_iter < max_ls) {
    // check conditions
    if (f_new > (f + c1 * t * gtd) || (ls_iter > 1 && f_new >= f_prev)) {
      bracket = {t_prev, t};
      bracket_f = {f_prev, f_new};
      bracket_g = {g_prev, g_new.clone()};
      bracket_gtd = {gtd_prev, gtd_new};
      break;
    }
    if (std::abs(gtd_new) <= -c2 * gtd) {
      bracket = {t};
      bracket_f = {f_new};
      bracket_g = {g_new};
      done = true;
      break;
    }
    if (gtd_new >= 0) {
      bracket = {t_prev, t};
      bracket_f = {f_prev, f_new};
      bracket_g = {g_prev, g_new.clone()};
      bracket_gtd = {gtd_prev, gtd_new};
      break;
    }
    // interpolate
    const double min_step = t + 0.01 * (t - t_prev);
    const double max_step = t * 10;
    const double tmp = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, std::pair{min_step, max_step});
    // next step
    t_prev = tmp;
    f_prev = f_new;
    g_prev = g_new.clone();
    gtd_prev = gtd_new;
    e = obj(t);
    f_new = e.f;
    g_new = e.g;
    ls_func_evals += 1;
    gtd_new = dot<T>(g_new, d);
    ls_iter += 1;
  }
  // reached max number of iterations?
  if (ls_iter == max_ls) {
    bracket = {0, t};
    bracket_f = {f, f_new};
    bracket_g = {g, g_new};
  }

  // zoom phase: a point satisfying the criteria lies within the bracket
  bool insuf_progress = false;
  std::size_t low_pos = 0, high_pos = 0;
  if (bracket_f.front() <= bracket_f.back()) {
    low_pos = 0, high_pos = 1;
  } else {
    low_pos = 1, high_pos = 0;
  }
  while (!done && ls_iter < max_ls) {
    // line-search bracket is so small
    if (std::abs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
    // compute new trial value
    t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]);
    // test that we are making sufficient progress
    const double bmax = std::max(bracket[0], bracket[1]), bmin = std::min(bracket[0], bracket[1]);
    const double eps = 0.1 * (bmax - bmin);
    if (std::min(bmax - t, t - bmin) < eps) {
      if (insuf_progress || t >= bmax || t <= bmin) {
        t = std::abs(t - bmax) < std::abs(t - bmin) ? bmax - eps : bmin + eps;
        insuf_progress = false;
      } else {
        insuf_progress = true;
      }
    } else {
      insuf_progress = false;
    }
    // Evaluate new point
    e = obj(t);
    f_new = e.f;
    g_new = e.g;
    ls_func_evals += 1;
    gtd_new = dot<T>(g_new, d);
    ls_iter += 1;

    if (f_new > (f + c1 * t * gtd) || f_new >= bracket_f[low_pos]) {
      // Armijo condition not satisfied or not lower than lowest point
      bracket[high_pos] = t;
      bracket_f[high_pos] = f_new;
      bracket_g[high_pos] = g_new.clone();
      bracket_gtd[high_pos] = gtd_new;
      if (bracket_f[0] <= bracket_f[1]) {
        low_pos = 0, high_pos = 1;
      } else {
        low_pos = 1, high_pos = 0;
      }
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd) {
        done = true;  // Wolfe conditions satisfied
      } else if (gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0) {
        // old high becomes new low
        bracket[high_pos] = bracket[low_pos];
        bracket_f[high_pos] = bracket_f[low_pos];
        bracket_g[high_pos] = bracket_g[low_pos];
        bracket_gtd[high_pos] = bracket_gtd[low_pos];
      }
      // new point becomes new low
      bracket[low_pos] = t;
      bracket_f[low_pos] = f_new;
      bracket_g[low_pos] = g_new.clone();
      bracket_gtd[low_pos] = gtd_new;
    }
  }
  return {bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals};
}

/// Runs the closure with grad mode on (the step itself runs with it off).
Tensor evaluate(const Closure& closure) {
  const bool previous = GradMode::is_enabled();
  GradMode::set_enabled(true);
  Tensor loss;
  try {
    loss = closure();
  } catch (...) {
    GradMode::set_enabled(previous);
    throw;
  }
  GradMode::set_enabled(previous);
  DESCENT_CHECK_VALUE(loss.defined() && loss.numel() == 1,
                      "LBFGS: the closure must return the loss as a one-element tensor");
  return loss;
}

}  // namespace

LBFGS::LBFGS(std::vector<Tensor> params, const LBFGSOptions& options)
    : Optimizer("LBFGS", std::vector<ParamGroup>{ParamGroup{std::move(params)}}), options_(options) {
  if (!options_.max_eval) options_.max_eval = options_.max_iter * 5 / 4;
  validate(options_);
  for (const Tensor& p : groups_[0]) {
    DESCENT_CHECK_DTYPE(p.dtype() == groups_[0][0].dtype(),
                        "LBFGS: all parameters must have one dtype (they form one flat vector), got {} and {}",
                        dtype_name(groups_[0][0].dtype()), dtype_name(p.dtype()));
  }
}

void LBFGS::validate(const LBFGSOptions& o) {
  detail::check_lr("LBFGS", o.lr);
  DESCENT_CHECK_VALUE(o.max_iter >= 1, "LBFGS: invalid max_iter: {} (expected >= 1)", o.max_iter);
  DESCENT_CHECK_VALUE(!o.max_eval || *o.max_eval >= 1, "LBFGS: invalid max_eval: {} (expected >= 1)",
                      o.max_eval.value_or(0));
  detail::check_nonnegative("LBFGS", "tolerance_grad", o.tolerance_grad);
  detail::check_nonnegative("LBFGS", "tolerance_change", o.tolerance_change);
  DESCENT_CHECK_VALUE(o.history_size >= 1, "LBFGS: invalid history_size: {} (expected >= 1)", o.history_size);
  DESCENT_CHECK_VALUE(o.line_search_fn.empty() || o.line_search_fn == "strong_wolfe",
                      "LBFGS: line_search_fn must be \"\" (none) or \"strong_wolfe\", got \"{}\"", o.line_search_fn);
}

void LBFGS::update() {
  throw ValueError("LBFGS: step() needs a closure that re-evaluates the loss: step([&] { ...; return loss; })");
}

Tensor LBFGS::step(const Closure& closure) {
  DESCENT_CHECK_VALUE(static_cast<bool>(closure), "LBFGS: step() needs a closure that re-evaluates the loss");
  NoGradGuard no_grad;
  return kernels::dispatch_floating(groups_[0][0].dtype(), "LBFGS",
                                    [&]<typename T>() { return step_impl<T>(closure); });
}

template <typename T>
Tensor LBFGS::step_impl(const Closure& closure) {
  const std::vector<Tensor>& params = groups_[0];
  const DType dtype = params[0].dtype();
  std::int64_t numel = 0;
  for (const Tensor& p : params) numel += p.numel();

  const double lr = options_.lr;
  const std::int64_t max_iter = options_.max_iter;
  const std::int64_t max_eval = options_.max_eval.value_or(max_iter * 5 / 4);
  const double tolerance_grad = options_.tolerance_grad;
  const double tolerance_change = options_.tolerance_change;
  const bool strong_wolfe_search = options_.line_search_fn == "strong_wolfe";
  const auto history_size = static_cast<std::size_t>(options_.history_size);

  // The flat gradient, zeros for parameters without one.
  auto gather_flat_grad = [&] {
    Tensor flat = empty({numel}, dtype);
    T* out = flat.data_ptr<T>();
    std::int64_t offset = 0;
    for (const Tensor& p : params) {
      const Tensor grad = p.grad();
      const std::int64_t n = p.numel();
      if (grad.defined()) {
        DESCENT_CHECK_SHAPE(grad.shape() == p.shape() && grad.dtype() == dtype,
                            "LBFGS: gradient of shape {} and dtype {} does not match its parameter of shape {}",
                            grad.shape(), dtype_name(grad.dtype()), p.shape());
        const Tensor g = grad.is_contiguous() ? grad : kernels::contiguous_copy(grad);
        std::copy_n(g.data_ptr<T>(), n, out + offset);
      } else {
        std::fill_n(out + offset, n, T(0));
      }
      offset += n;
    }
    return flat;
  };
  // p += step_size * update, parameter by parameter.
  auto add_grad = [&](double step_size, const Tensor& update) {
    const T* u = update.data_ptr<T>();
    const T s = static_cast<T>(step_size);
    std::int64_t offset = 0;
    for (const Tensor& p : params) {
      const std::int64_t n = p.numel();
      const bool in_place = p.is_contiguous();
      const Tensor work = in_place ? p : kernels::contiguous_copy(p);
      T* w = work.data_ptr<T>();
      for (std::int64_t j = 0; j < n; ++j) w[j] = w[j] + s * u[offset + j];
      if (!in_place) kernels::copy_into(p, work);
      offset += n;
    }
  };
  auto clone_params = [&] {
    std::vector<Tensor> out;
    for (const Tensor& p : params) out.push_back(p.clone());
    return out;
  };
  auto set_params = [&](const std::vector<Tensor>& values) {
    for (std::size_t i = 0; i < params.size(); ++i) kernels::copy_into(params[i], values[i]);
  };

  LBFGSState& state = state_;

  // evaluate initial f(x) and df/dx
  const Tensor orig_loss = evaluate(closure);
  double loss = orig_loss.item();
  std::int64_t current_evals = 1;
  state.func_evals += 1;

  Tensor flat_grad = gather_flat_grad();
  bool opt_cond = abs_max<T>(flat_grad) <= tolerance_grad;
  // optimal condition
  if (opt_cond) return orig_loss;

  // tensors cached in state (for tracing)
  Tensor d = state.d;
  double t = state.t;
  std::deque<Tensor> old_dirs(state.old_dirs.begin(), state.old_dirs.end());
  std::deque<Tensor> old_stps(state.old_stps.begin(), state.old_stps.end());
  std::deque<double> ro(state.ro.begin(), state.ro.end());
  double H_diag = state.H_diag;
  Tensor prev_flat_grad = state.prev_flat_grad;
  double prev_loss = state.prev_loss;

  std::int64_t n_iter = 0;
  // optimize for a max of max_iter iterations
  while (n_iter < max_iter) {
    // keep track of nb of iterations
    n_iter += 1;
    state.n_iter += 1;

    // compute gradient descent direction
    if (state.n_iter == 1) {
      d = scaled<T>(flat_grad, -1);
      old_dirs.clear();
      old_stps.clear();
      ro.clear();
      H_diag = 1;
    } else {
      // do lbfgs update (update memory)
      Tensor y = flat_grad.clone();
      axpy<T>(y, -1, prev_flat_grad);  // y = flat_grad - prev_flat_grad
      Tensor s = scaled<T>(d, t);
      const double ys = dot<T>(y, s);  // y*s
      if (ys > 1e-10) {
        // updating memory
        if (old_dirs.size() == history_size) {
          // shift history by one (limited-memory)
          old_dirs.pop_front();
          old_stps.pop_front();
          ro.pop_front();
        }
        // store new direction/step
        old_dirs.push_back(y);
        old_stps.push_back(s);
        ro.push_back(1. / ys);
        // update scale of initial Hessian approximation
        H_diag = ys / dot<T>(y, y);  // (y*y)
      }

      // compute the approximate (L-BFGS) inverse Hessian multiplied by the gradient
      const std::size_t num_old = old_dirs.size();
      std::vector<double> al(num_old);
      // iteration in L-BFGS loop collapsed to use just one buffer
      Tensor q = scaled<T>(flat_grad, -1);
      for (std::size_t k = num_old; k-- > 0;) {
        al[k] = dot<T>(old_stps[k], q) * ro[k];
        axpy<T>(q, -al[k], old_dirs[k]);
      }
      // multiply by initial Hessian; r/d is the final direction
      d = scaled<T>(q, H_diag);
      for (std::size_t k = 0; k < num_old; ++k) {
        const double be_i = dot<T>(old_dirs[k], d) * ro[k];
        axpy<T>(d, al[k] - be_i, old_stps[k]);
      }
    }

    if (!prev_flat_grad.defined()) {
      prev_flat_grad = flat_grad.clone();
    } else {
      kernels::copy_into(prev_flat_grad, flat_grad);
    }
    prev_loss = loss;

    // compute step length: reset initial guess for step size
    if (state.n_iter == 1) {
      t = std::min(1., 1. / abs_sum<T>(flat_grad)) * lr;
    } else {
      t = lr;
    }

    // directional derivative
    const double gtd = dot<T>(flat_grad, d);  // g * d
    // directional derivative is below tolerance
    if (gtd > -tolerance_change) break;

    // optional line search: user function
    std::int64_t ls_func_evals = 0;
    if (strong_wolfe_search) {
      const std::vector<Tensor> x_init = clone_params();
      auto obj_func = [&](double step) {
        add_grad(step, d);
        const double f = evaluate(closure).item();
        Tensor g = gather_flat_grad();
        set_params(x_init);
        return Evaluation{f, g};
      };
      LineSearchResult r = strong_wolfe<T>(obj_func, t, d, loss, flat_grad, gtd);
      loss = r.f;
      flat_grad = r.g;
      t = r.t;
      ls_func_evals = r.evals;
      add_grad(t, d);
      opt_cond = abs_max<T>(flat_grad) <= tolerance_grad;
    } else {
      // no line search, simply move with fixed-step
      add_grad(t, d);
      if (n_iter != max_iter) {
        // re-evaluate function only if not in last iteration; in a stochastic setting there is
        // no use re-evaluating that function here
        loss = evaluate(closure).item();
        flat_grad = gather_flat_grad();
        opt_cond = abs_max<T>(flat_grad) <= tolerance_grad;
        ls_func_evals = 1;
      }
    }
    // update func eval
    current_evals += ls_func_evals;
    state.func_evals += static_cast<double>(ls_func_evals);

    // check conditions
    if (n_iter == max_iter) break;
    if (current_evals >= max_eval) break;
    // optimal condition
    if (opt_cond) break;
    // lack of progress
    if (abs_max<T>(scaled<T>(d, t)) <= tolerance_change) break;
    if (std::abs(loss - prev_loss) < tolerance_change) break;
  }

  state.has_history = true;
  state.d = d;
  state.t = t;
  state.old_dirs.assign(old_dirs.begin(), old_dirs.end());
  state.old_stps.assign(old_stps.begin(), old_stps.end());
  state.ro.assign(ro.begin(), ro.end());
  state.H_diag = H_diag;
  state.prev_flat_grad = prev_flat_grad;
  state.prev_loss = prev_loss;
  return orig_loss;
}

// --- options by name ------------------------------------------------------------------------------

std::size_t LBFGS::options_size() const { return 1; }

OptionValue LBFGS::get_option(std::size_t, std::string_view name) const {
  OptionValue out;
  const bool known = with_option<LBFGSOptions>(options_, name, [&](const auto& m) { out = to_option_value(m); });
  DESCENT_CHECK_VALUE(known, "LBFGS: unknown option '{}' (options: {})", name, option_names<LBFGSOptions>());
  return out;
}

void LBFGS::put_option(std::size_t, std::string_view name, const OptionValue& value) {
  LBFGSOptions updated = options_;
  const bool known =
      with_option<LBFGSOptions>(updated, name, [&](auto& m) { from_option_value(m, value, "LBFGS", name); });
  DESCENT_CHECK_VALUE(known, "LBFGS: unknown option '{}' (options: {})", name, option_names<LBFGSOptions>());
  validate(updated);
  options_ = updated;
}

bool LBFGS::knows_option(std::string_view name) const {
  LBFGSOptions o = options_;
  return with_option<LBFGSOptions>(o, name, [](auto&) {});
}

// --- state dict -----------------------------------------------------------------------------------

namespace {
Tensor stack_rows(const std::vector<Tensor>& rows, std::int64_t numel, DType dtype) {
  if (rows.empty()) return empty({0, numel}, dtype);
  return stack(rows, 0);
}
}  // namespace

void LBFGS::save(std::map<std::string, Tensor>& out) const {
  LBFGSOptions::fields(options_, [&](const char* field, const auto& m) {
    out[std::string("param_groups.0.") + field] = encode_option(m);
  });
  std::vector<std::int64_t> indices(groups_[0].size());
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<std::int64_t>(i);
  out["param_groups.0.params"] = tensor_int64(indices, {static_cast<std::int64_t>(indices.size())});
  if (state_.func_evals == 0) return;  // no step yet: no state, as in PyTorch
  out["state.0.func_evals"] = encode_scalar(state_.func_evals);
  out["state.0.n_iter"] = encode_scalar(state_.n_iter);
  if (!state_.has_history) return;
  std::int64_t numel = 0;
  for (const Tensor& p : groups_[0]) numel += p.numel();
  const DType dtype = groups_[0][0].dtype();
  out["state.0.d"] = state_.d.clone();
  out["state.0.t"] = encode_scalar(state_.t);
  out["state.0.old_dirs"] = stack_rows(state_.old_dirs, numel, dtype);
  out["state.0.old_stps"] = stack_rows(state_.old_stps, numel, dtype);
  out["state.0.ro"] = encode_vector(state_.ro);
  out["state.0.H_diag"] = encode_scalar(state_.H_diag);
  out["state.0.prev_flat_grad"] = state_.prev_flat_grad.clone();
  out["state.0.prev_loss"] = encode_scalar(state_.prev_loss);
}

std::function<void()> LBFGS::prepare_load(StateDictReader& reader) {
  LBFGSOptions options = options_;
  LBFGSOptions::fields(options, [&](const char* field, auto& m) {
    decode_option(reader, std::string("param_groups.0.") + field, m);
  });
  if (const Tensor* saved = reader.require("param_groups.0.params")) {
    const auto n = static_cast<std::int64_t>(groups_[0].size());
    const bool ok = saved->dtype() == kInt64 && saved->dim() == 1 && saved->numel() == n;
    DESCENT_CHECK_VALUE(ok, "{}: param_groups.0.params is {}, expected the indices of this optimizer's {} parameters",
                        reader.owner(), saved->to_string(), n);
  }
  validate(options);

  LBFGSState state;
  const bool has_state = reader.has_prefix("state.0.");
  if (has_state) {
    state.func_evals = reader.scalar("state.0.func_evals", 0);
    state.n_iter = reader.scalar("state.0.n_iter", 0);
    static const char* kHistory[] = {"d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss"};
    bool any = false;
    for (const char* name : kHistory) any = any || reader.has_prefix(std::string("state.0.") + name);
    if (any) {
      std::int64_t numel = 0;
      for (const Tensor& p : groups_[0]) numel += p.numel();
      const DType dtype = groups_[0][0].dtype();
      state.has_history = true;
      state.d = reader.tensor("state.0.d", {numel}, dtype, zeros({numel}, dtype));
      state.t = reader.scalar("state.0.t", 0);
      // The history length comes from old_dirs; old_stps and ro must agree with it.
      std::int64_t k = 0;
      if (const Tensor* dirs = reader.find("state.0.old_dirs")) {
        DESCENT_CHECK_SHAPE(dirs->dim() == 2 && dirs->size(1) == numel,
                            "{}: \"state.0.old_dirs\" has shape {}, expected [k, {}]", reader.owner(), dirs->shape(),
                            numel);
        k = dirs->size(0);
      }
      const Tensor dirs = reader.tensor("state.0.old_dirs", {k, numel}, dtype, Tensor());
      const Tensor stps = reader.tensor("state.0.old_stps", {k, numel}, dtype, Tensor());
      state.ro = reader.vector("state.0.ro", k, std::vector<double>(static_cast<std::size_t>(k), 0.0));
      for (std::int64_t r = 0; dirs.defined() && stps.defined() && r < k; ++r) {
        state.old_dirs.push_back(dirs.select(0, r).contiguous());
        state.old_stps.push_back(stps.select(0, r).contiguous());
      }
      state.H_diag = reader.scalar("state.0.H_diag", 1);
      state.prev_flat_grad = reader.tensor("state.0.prev_flat_grad", {numel}, dtype, zeros({numel}, dtype));
      state.prev_loss = reader.scalar("state.0.prev_loss", 0);
    }
  }
  return [this, options = std::move(options), state = std::move(state)]() mutable {
    options_ = std::move(options);
    state_ = std::move(state);
  };
}

}  // namespace descent::optim
