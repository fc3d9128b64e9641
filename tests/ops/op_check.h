#pragma once
// Table-driven gradient checks for descent's ops, and EXPECT_THROW_WITH for error messages.
//
//   check_op({.name = "tanh",
//             .fn = [](const Inputs& in) { return tanh(in[0]); },
//             .shapes = {{C(2, 3)}, {C()}, {Tr(3, 2)}, {St(2, 4)}}});
//
// Every shape set builds fresh float64 leaves (values drawn from a seeded descent::Generator in
// `domain`, kept `margin` away from every value in `kinks`), marks them requires_grad (unless the
// Arg says nograd()), and runs descent::gradcheck on them. It then runs the op on float32 leaves
// with the same layouts and (rounded) values and compares the output and the gradients with the
// float64 run (|f32 - f64| <= 1e-4 + 1e-3 |f64|). A spec must include a 0-dimensional
// input (or say in `no_scalar` why the op cannot take one) and a non-contiguous input (or say in
// `no_noncontig` why none fits, e.g. the op takes one-element inputs only, which are always contiguous).
//
// Arg layouts: C = contiguous, Tr = transposed view (last two dims swapped), St = step-2 slice of
// the last dim, Pad = slice of padded rows (row stride > row length), Rev = all dims reversed
// (a permuted view). They are leaves that are views of a larger or reordered storage, as in
// `randn({4, 3}, g, kFloat64).t().detach().requires_grad_()`.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "descent/descent.h"

namespace optest {

using Inputs = std::vector<descent::Tensor>;
using OpFn = std::function<descent::Tensor(const Inputs&)>;

enum class Layout { Contiguous, Transposed, Strided, Padded, Reversed };

/// One input of one shape set.
struct Arg {
  descent::Shape shape{};
  Layout layout = Layout::Contiguous;
  bool requires_grad = true;
  std::optional<std::pair<double, double>> domain{};  // overrides the spec's domain

  /// The same input, not requiring grad (e.g. a condition, or to test one-sided backward paths).
  Arg nograd() const {
    Arg a = *this;
    a.requires_grad = false;
    return a;
  }
  /// The same input with values drawn from [lo, hi].
  Arg in(double lo, double hi) const {
    Arg a = *this;
    a.domain = std::make_pair(lo, hi);
    return a;
  }
};

template <typename... I>
Arg make_arg(Layout layout, I... sizes) {
  return Arg{descent::Shape{static_cast<std::int64_t>(sizes)...}, layout};
}
/// Contiguous; C() is a 0-dimensional scalar.
template <typename... I>
Arg C(I... sizes) { return make_arg(Layout::Contiguous, sizes...); }
/// A transposed view: storage [..., n, m] seen as [..., m, n] (needs 2+ dims).
template <typename... I>
Arg Tr(I... sizes) { return make_arg(Layout::Transposed, sizes...); }
/// Every second element of the last dim of a storage twice as long (stride 2).
template <typename... I>
Arg St(I... sizes) { return make_arg(Layout::Strided, sizes...); }
/// The middle of rows padded by one element on each side (row stride = length + 2).
template <typename... I>
Arg Pad(I... sizes) { return make_arg(Layout::Padded, sizes...); }
/// A view with all dims reversed (storage has the reversed shape, permuted back).
template <typename... I>
Arg Rev(I... sizes) { return make_arg(Layout::Reversed, sizes...); }

struct OpSpec {
  std::string name{};
  OpFn fn{};
  std::vector<std::vector<Arg>> shapes{};
  std::pair<double, double> domain{-2.0, 2.0};
  std::vector<double> kinks{};  // points of non-differentiability to stay away from
  double margin = 0.05;         // minimum distance of every input value from every kink
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  std::uint64_t seed = 1;
  const char* no_scalar = nullptr;  // why the op cannot take a 0-d input; otherwise one is required
  const char* no_noncontig = nullptr;  // why no input can be non-contiguous (one-element inputs only)
};

inline const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::Contiguous: return "";
    case Layout::Transposed: return " transposed";
    case Layout::Strided: return " strided";
    case Layout::Padded: return " padded";
    case Layout::Reversed: return " reversed";
  }
  return "";
}

/// "([2, 3] transposed, [3] nograd)"
inline std::string describe(const std::vector<Arg>& args) {
  std::string out = "(";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ", ";
    out += descent::to_string(args[i].shape) + layout_name(args[i].layout);
    if (!args[i].requires_grad) out += " nograd";
  }
  return out + ")";
}

inline double sample(std::pair<double, double> domain, const std::vector<double>& kinks, double margin,
                     descent::Generator& generator) {
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const double u = domain.first + (domain.second - domain.first) * generator.uniform();
    bool ok = true;
    for (double k : kinks) ok = ok && std::abs(u - k) >= margin;
    if (ok) return u;
  }
  throw std::logic_error("op_check: the domain has no room away from the kinks");
}

/// Views `base` (of the shape storage_shape gives) as the layout asks.
inline descent::Tensor lay_out(const descent::Tensor& base, Layout layout) {
  const std::int64_t nd = base.dim();
  switch (layout) {
    case Layout::Contiguous: return base;
    case Layout::Transposed: return base.transpose(-2, -1);
    case Layout::Strided: return base.slice(-1, 0, base.size(-1), 2);
    case Layout::Padded: return base.slice(-1, 1, base.size(-1) - 1);
    case Layout::Reversed: {
      std::vector<std::int64_t> dims;
      for (std::int64_t d = nd - 1; d >= 0; --d) dims.push_back(d);
      return base.permute(dims);
    }
  }
  return base;
}

/// The shape of the storage that lay_out views as arg.shape.
inline descent::Shape storage_shape(const Arg& arg) {
  const descent::Shape& shape = arg.shape;
  const auto nd = static_cast<std::int64_t>(shape.size());
  descent::Shape storage = shape;
  switch (arg.layout) {
    case Layout::Contiguous: break;
    case Layout::Transposed:
      if (nd < 2) throw std::logic_error("op_check: a transposed input needs 2 or more dims");
      std::swap(storage[nd - 2], storage[nd - 1]);
      break;
    case Layout::Strided:
      if (nd < 1) throw std::logic_error("op_check: a strided input needs 1 or more dims");
      storage[nd - 1] *= 2;
      break;
    case Layout::Padded:
      if (nd < 1) throw std::logic_error("op_check: a padded input needs 1 or more dims");
      storage[nd - 1] += 2;
      break;
    case Layout::Reversed: storage.assign(shape.rbegin(), shape.rend()); break;
  }
  return storage;
}

/// The same input as a float64 leaf (for gradcheck) and a float32 leaf with the same layout and
/// the same values rounded (for the float32 comparison).
struct BuiltInput {
  descent::Tensor f64, f32;
};

inline BuiltInput make_input(const Arg& arg, const OpSpec& spec, descent::Generator& generator) {
  descent::Tensor base = descent::empty(storage_shape(arg), descent::kFloat64);
  for (std::int64_t i = 0; i < base.numel(); ++i) {
    base.set_flat(i, sample(arg.domain.value_or(spec.domain), spec.kinks, spec.margin, generator));
  }
  BuiltInput out{lay_out(base, arg.layout).detach(), lay_out(base.to(descent::kFloat32), arg.layout).detach()};
  if (out.f64.shape() != arg.shape) throw std::logic_error("op_check: built an input of the wrong shape");
  if (arg.requires_grad) {
    out.f64.requires_grad_();
    out.f32.requires_grad_();
  }
  return out;
}

/// "" when every |got - want| <= atol + rtol |want|, else the first difference.
inline std::string compare_values(const descent::Tensor& got, const descent::Tensor& want, double atol, double rtol) {
  if (got.shape() != want.shape()) {
    return "shape " + descent::to_string(got.shape()) + " vs " + descent::to_string(want.shape());
  }
  const std::vector<double> g = got.to_vector<double>();
  const std::vector<double> w = want.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i) {
    const bool both_nan = std::isnan(g[i]) && std::isnan(w[i]);
    if (!both_nan && !(std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i])) && g[i] != w[i]) {
      return "element " + std::to_string(i) + ": " + std::to_string(g[i]) + " vs " + std::to_string(w[i]);
    }
  }
  return "";
}

/// Runs the op on float32 inputs (same layouts, same values rounded) and compares its output and
/// input gradients with the float64 run: catches float32-only mistakes in kernels and backwards.
inline void check_float32(const OpSpec& spec, const std::vector<Arg>& args, const Inputs& in64, const Inputs& in32,
                          std::uint64_t seed) {
  constexpr double kAtol = 1e-4, kRtol = 1e-3;
  for (const descent::Tensor& x : in64) x.set_grad(descent::Tensor());
  const descent::Tensor y64 = spec.fn(in64);
  const descent::Tensor y32 = spec.fn(in32);
  const std::string forward = compare_values(y32, y64, kAtol, kRtol);
  if (!forward.empty()) {
    ADD_FAILURE() << spec.name << " " << describe(args) << ": float32 output differs from float64: " << forward;
    return;
  }
  if (!y64.requires_grad()) return;
  if (!y32.requires_grad()) {
    ADD_FAILURE() << spec.name << " " << describe(args) << ": float32 output does not require grad";
    return;
  }
  descent::Generator generator(seed);
  const descent::Tensor v = descent::randn(y64.shape(), generator, descent::kFloat64);
  y64.backward(v);
  y32.backward(v.to(y32.dtype()));
  for (std::size_t k = 0; k < in64.size(); ++k) {
    if (!in64[k].requires_grad()) continue;
    const descent::Tensor g64 = in64[k].grad();
    const descent::Tensor g32 = in32[k].grad();
    if (g64.defined() != g32.defined()) {
      ADD_FAILURE() << spec.name << " " << describe(args) << ": input " << k << " has a gradient in only one dtype";
      continue;
    }
    if (!g64.defined()) continue;
    if (g32.dtype() != descent::kFloat32) {
      ADD_FAILURE() << spec.name << " " << describe(args) << ": the gradient of float32 input " << k << " has dtype "
                    << descent::dtype_name(g32.dtype());
    }
    const std::string backward = compare_values(g32, g64, kAtol, kRtol);
    if (!backward.empty()) {
      ADD_FAILURE() << spec.name << " " << describe(args) << ": float32 gradient of input " << k
                    << " differs from float64: " << backward;
    }
  }
  for (const descent::Tensor& x : in64) x.set_grad(descent::Tensor());
}

/// Runs descent::gradcheck on every shape set of the spec, then the same computation in float32
/// against float64; failures name the op and the shapes.
inline void check_op(const OpSpec& spec) {
  SCOPED_TRACE("op " + spec.name);
  ASSERT_FALSE(spec.shapes.empty()) << spec.name << ": no shape sets";
  descent::Generator generator(spec.seed);
  bool saw_scalar = false;
  bool saw_noncontiguous = false;
  for (std::size_t c = 0; c < spec.shapes.size(); ++c) {
    const std::vector<Arg>& args = spec.shapes[c];
    Inputs in64, in32;
    try {
      for (const Arg& arg : args) {
        BuiltInput built = make_input(arg, spec, generator);
        in64.push_back(built.f64);
        in32.push_back(built.f32);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << spec.name << " " << describe(args) << ": could not build inputs: " << e.what();
      continue;
    }
    for (const descent::Tensor& t : in64) {
      saw_scalar = saw_scalar || t.dim() == 0;
      saw_noncontiguous = saw_noncontiguous || !t.is_contiguous();
    }
    descent::GradcheckOptions options;
    options.eps = spec.eps;
    options.atol = spec.atol;
    options.rtol = spec.rtol;
    options.seed = spec.seed + c;
    try {
      const descent::GradcheckResult r = descent::gradcheck(spec.fn, in64, options);
      if (!r.ok) ADD_FAILURE() << spec.name << " " << describe(args) << ": " << r.message;
    } catch (const std::exception& e) {
      ADD_FAILURE() << spec.name << " " << describe(args) << " threw: " << e.what();
      continue;
    }
    try {
      check_float32(spec, args, in64, in32, spec.seed + c);
    } catch (const std::exception& e) {
      ADD_FAILURE() << spec.name << " " << describe(args) << " threw in float32: " << e.what();
    }
  }
  if (spec.no_scalar == nullptr) {
    EXPECT_TRUE(saw_scalar) << spec.name << ": no shape set has a 0-dimensional input (set .no_scalar to say why)";
  }
  if (spec.no_noncontig == nullptr) {
    EXPECT_TRUE(saw_noncontiguous) << spec.name << ": no shape set has a non-contiguous input (set .no_noncontig to say why)";
  }
}

/// Runs fn forward and backward on float64 leaves of the given shapes (meant for shapes with a
/// 0-size dim, where gradcheck has no element to perturb) and expects no exception, the output
/// shape `out`, and gradients of the inputs' shapes.
inline void check_empty(const std::string& name, const OpFn& fn, const std::vector<descent::Shape>& shapes,
                        const descent::Shape& out) {
  SCOPED_TRACE("op " + name);
  Inputs inputs;
  for (const descent::Shape& shape : shapes) {
    inputs.push_back(descent::ones(shape, descent::kFloat64));
    inputs.back().requires_grad_();
  }
  try {
    const descent::Tensor y = fn(inputs);
    EXPECT_EQ(y.shape(), out) << name;
    y.backward(descent::ones(y.shape(), y.dtype()));
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (inputs[k].grad().defined()) {
        EXPECT_EQ(inputs[k].grad().shape(), shapes[k]) << name << ", input " << k;
      }
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << " threw: " << e.what();
  }
}

namespace detail {
inline void expect_message(const char* file, int line, const char* stmt, const std::string& what,
                           std::initializer_list<const char*> parts) {
  for (const char* part : parts) {
    if (what.find(part) == std::string::npos) {
      ADD_FAILURE_AT(file, line) << "The message of the exception from " << stmt << " lacks \"" << part
                                 << "\".\n  Message: " << what;
    }
  }
}
}  // namespace detail

}  // namespace optest

/// Expects `stmt` to throw ExceptionType whose what() contains every one of the substrings:
///   EXPECT_THROW_WITH(add(a, b), descent::ShapeError, "add", "[2, 3]", "[4]");
/// Wrap a statement that has commas inside braces in parentheses: EXPECT_THROW_WITH((f(x, {1, 2})), ...).
#define EXPECT_THROW_WITH(stmt, ExceptionType, ...)                                                            \
  do {                                                                                                         \
    try {                                                                                                      \
      stmt;                                                                                                    \
      ADD_FAILURE() << "Expected " #ExceptionType " from " #stmt ", but nothing was thrown";                   \
    } catch (const ExceptionType& e_) {                                                                        \
      ::optest::detail::expect_message(__FILE__, __LINE__, #stmt, e_.what(), {__VA_ARGS__});                   \
    } catch (const std::exception& e_) {                                                                       \
      ADD_FAILURE() << "Expected " #ExceptionType " from " #stmt ", but it threw another exception: " << e_.what(); \
    }                                                                                                          \
  } while (false)
