// Gradient checks and bad-input tests for the elementwise ops (descent/ops/elementwise.h).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <gtest/gtest-spi.h>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

// Shape sets for a binary op: equal shapes, broadcasting both ways, 0-d with a tensor, size-1
// dims, 3-D against 2-D, and transposed / strided / padded / permuted operands.
std::vector<std::vector<Arg>> binary_shapes() {
  return {
      {C(2, 3), C(2, 3)},
      {C(3, 1), C(4)},
      {C(2, 3), C(3)},
      {C(3), C(2, 3)},
      {C(), C(2, 2)},
      {C(2, 2), C()},
      {C(), C()},
      {C(1, 3), C(2, 1)},
      {C(2, 1, 3), Tr(4, 3)},
      {Tr(2, 3), C(2, 3)},
      {St(2, 3), Tr(2, 3)},
      {Pad(3, 2), St(2)},
      {Rev(2, 3, 2), C(3, 1)},
  };
}

// One-sided shape sets: only one operand requires grad (the backward skips the other).
std::vector<std::vector<Arg>> one_sided_shapes() {
  return {
      {C(2, 3).nograd(), Tr(2, 3)},
      {St(2, 3), C(3).nograd()},
      {C().nograd(), C(2, 2)},
      {C(3, 1), C().nograd()},
  };
}

std::vector<std::vector<Arg>> unary_shapes() {
  return {{C(2, 3)}, {C()}, {C(5)}, {C(1, 4, 1)}, {Tr(3, 2)}, {St(2, 4)}, {Pad(2, 3)}, {Rev(2, 3, 2)}};
}

}  // namespace

// --- the harness itself ---------------------------------------------------------------------------

TEST(OpCheckHarness, LayoutsAreTheRequestedViews) {
  Generator g(0);
  const OpSpec spec{.name = "layouts"};
  const Tensor tr = make_input(Tr(2, 3), spec, g).f64;
  EXPECT_EQ(tr.shape(), (Shape{2, 3}));
  EXPECT_EQ(tr.strides(), (Strides{1, 2}));
  const Tensor st = make_input(St(2, 3), spec, g).f64;
  EXPECT_EQ(st.strides(), (Strides{6, 2}));
  const Tensor pad = make_input(Pad(2, 3), spec, g).f64;
  EXPECT_EQ(pad.strides(), (Strides{5, 1}));
  EXPECT_EQ(pad.offset(), 1);
  const BuiltInput rev = make_input(Rev(2, 3, 4), spec, g);
  EXPECT_EQ(rev.f64.strides(), (Strides{1, 2, 6}));
  EXPECT_EQ(rev.f32.strides(), (Strides{1, 2, 6}));
  EXPECT_EQ(rev.f32.dtype(), kFloat32);
  EXPECT_TRUE(rev.f64.is_leaf());
  EXPECT_TRUE(rev.f64.requires_grad());
  EXPECT_FALSE(make_input(C(2).nograd(), spec, g).f64.requires_grad());
  // Values stay in the domain and away from the kinks.
  const OpSpec kinked{.name = "kinks", .domain = {-1.0, 1.0}, .kinks = {0.0}, .margin = 0.5};
  for (double v : make_input(C(50), kinked, g).f64.to_vector<double>()) {
    EXPECT_GE(std::abs(v), 0.5);
    EXPECT_LE(std::abs(v), 1.0);
  }
}

TEST(OpCheckHarness, CatchesAWrongGradient) {
  // d/dx (x.detach() * x) as autograd sees it is x, but the function's derivative is 2x.
  EXPECT_NONFATAL_FAILURE(check_op({.name = "wrong", .fn = [](const Inputs& in) { return mul(in[0].detach(), in[0]); },
                                    .shapes = {{Tr(2, 3)}}, .no_scalar = "test"}),
                          "analytic gradient");
  // A missing 0-d case or non-contiguous case is reported.
  EXPECT_NONFATAL_FAILURE(check_op({.name = "no scalar", .fn = [](const Inputs& in) { return exp(in[0]); },
                                    .shapes = {{Tr(2, 3)}}}),
                          "0-dimensional");
  EXPECT_NONFATAL_FAILURE(check_op({.name = "contiguous only", .fn = [](const Inputs& in) { return exp(in[0]); },
                                    .shapes = {{C()}}}),
                          "non-contiguous");
  // An op that throws is reported with its shapes.
  EXPECT_NONFATAL_FAILURE(check_op({.name = "throws", .fn = [](const Inputs& in) { return add(in[0], in[1]); },
                                    .shapes = {{C(2, 3), Tr(4, 2)}}, .no_scalar = "test"}),
                          "[2, 3]");
}

TEST(OpCheckHarness, ThrowWithChecksTypeAndText) {
  EXPECT_NONFATAL_FAILURE(EXPECT_THROW_WITH(add(zeros({2}), zeros({3})), ShapeError, "nonexistent text"),
                          "nonexistent text");
  EXPECT_NONFATAL_FAILURE(EXPECT_THROW_WITH(add(zeros({2}), zeros({3})), DTypeError, "add"), "another exception");
  EXPECT_NONFATAL_FAILURE(EXPECT_THROW_WITH(add(zeros({2}), zeros({2})), ShapeError, "add"), "nothing was thrown");
}

// --- binary tensor-tensor ops -------------------------------------------------------------------

TEST(ElementwiseGrad, Add) {
  check_op({.name = "add", .fn = [](const Inputs& in) { return add(in[0], in[1]); }, .shapes = binary_shapes()});
  check_op({.name = "add one-sided", .fn = [](const Inputs& in) { return add(in[0], in[1]); },
            .shapes = one_sided_shapes()});
}

TEST(ElementwiseGrad, AddWithAlpha) {
  check_op({.name = "add alpha=2.5", .fn = [](const Inputs& in) { return add(in[0], in[1], 2.5); },
            .shapes = binary_shapes()});
  check_op({.name = "add alpha=-0.5 one-sided", .fn = [](const Inputs& in) { return add(in[0], in[1], -0.5); },
            .shapes = one_sided_shapes()});
}

TEST(ElementwiseGrad, Sub) {
  check_op({.name = "sub", .fn = [](const Inputs& in) { return sub(in[0], in[1]); }, .shapes = binary_shapes()});
  check_op({.name = "sub alpha=3", .fn = [](const Inputs& in) { return sub(in[0], in[1], 3.0); },
            .shapes = binary_shapes()});
  check_op({.name = "sub one-sided", .fn = [](const Inputs& in) { return sub(in[0], in[1]); },
            .shapes = one_sided_shapes()});
}

TEST(ElementwiseGrad, Mul) {
  check_op({.name = "mul", .fn = [](const Inputs& in) { return mul(in[0], in[1]); }, .shapes = binary_shapes()});
  check_op({.name = "mul one-sided", .fn = [](const Inputs& in) { return mul(in[0], in[1]); },
            .shapes = one_sided_shapes()});
  // The same tensor as both operands: the two gradients accumulate (d x^2 = 2x).
  check_op({.name = "mul(x, x)", .fn = [](const Inputs& in) { return mul(in[0], in[0]); }, .shapes = unary_shapes()});
}

TEST(ElementwiseGrad, Div) {
  // The divisor stays at least 0.5 away from 0.
  check_op({.name = "div", .fn = [](const Inputs& in) { return div(in[0], in[1]); }, .shapes = binary_shapes(),
            .kinks = {0.0}, .margin = 0.5});
  check_op({.name = "div one-sided", .fn = [](const Inputs& in) { return div(in[0], in[1]); },
            .shapes = one_sided_shapes(), .kinks = {0.0}, .margin = 0.5});
}

TEST(ElementwiseGrad, Operators) {
  check_op({.name = "a * b + a / b - 2 * a",
            .fn = [](const Inputs& in) { return in[0] * in[1] + in[0] / in[1] - 2.0 * in[0] + (1.0 - in[1]); },
            .shapes = binary_shapes(), .kinks = {0.0}, .margin = 0.5});
}

// --- tensor-scalar ops --------------------------------------------------------------------------

TEST(ElementwiseGrad, ScalarForms) {
  check_op({.name = "add scalar", .fn = [](const Inputs& in) { return add(in[0], 1.5); }, .shapes = unary_shapes()});
  check_op({.name = "sub scalar", .fn = [](const Inputs& in) { return sub(in[0], 1.5); }, .shapes = unary_shapes()});
  check_op({.name = "mul scalar", .fn = [](const Inputs& in) { return mul(in[0], -2.5); }, .shapes = unary_shapes()});
  check_op({.name = "div scalar", .fn = [](const Inputs& in) { return div(in[0], 4.0); }, .shapes = unary_shapes()});
  check_op({.name = "rsub", .fn = [](const Inputs& in) { return rsub(in[0], 3.0); }, .shapes = unary_shapes()});
  check_op({.name = "rdiv", .fn = [](const Inputs& in) { return rdiv(in[0], 2.0); }, .shapes = unary_shapes(),
            .kinks = {0.0}, .margin = 0.5});
  check_op({.name = "neg", .fn = [](const Inputs& in) { return neg(in[0]); }, .shapes = unary_shapes()});
}

TEST(ElementwiseForward, ScalarForms) {
  const Tensor x = tensor({1, -2, 4}, {3}, kFloat64);
  EXPECT_EQ(add(x, 1.5).to_vector<double>(), (std::vector<double>{2.5, -0.5, 5.5}));
  EXPECT_EQ(sub(x, 1.0).to_vector<double>(), (std::vector<double>{0, -3, 3}));
  EXPECT_EQ(rsub(x, 3.0).to_vector<double>(), (std::vector<double>{2, 5, -1}));
  EXPECT_EQ(rdiv(x, 2.0).to_vector<double>(), (std::vector<double>{2, -1, 0.5}));
  EXPECT_EQ((3.0 - x).to_vector<double>(), rsub(x, 3.0).to_vector<double>());
  EXPECT_EQ((2.0 / x).to_vector<double>(), rdiv(x, 2.0).to_vector<double>());
  EXPECT_EQ(add(x, x, 2.0).to_vector<double>(), (std::vector<double>{3, -6, 12}));
  EXPECT_EQ(sub(x, x, 0.5).to_vector<double>(), (std::vector<double>{0.5, -1, 2}));
}

// --- pow -------------------------------------------------------------------------------------------

TEST(ElementwiseGrad, PowScalarExponent) {
  check_op({.name = "pow 3", .fn = [](const Inputs& in) { return pow(in[0], 3.0); }, .shapes = unary_shapes()});
  check_op({.name = "pow 2", .fn = [](const Inputs& in) { return pow(in[0], 2.0); }, .shapes = unary_shapes()});
  check_op({.name = "pow 1", .fn = [](const Inputs& in) { return pow(in[0], 1.0); }, .shapes = unary_shapes()});
  check_op({.name = "pow 0", .fn = [](const Inputs& in) { return pow(in[0], 0.0); }, .shapes = unary_shapes()});
  check_op({.name = "pow 0.5", .fn = [](const Inputs& in) { return pow(in[0], 0.5); }, .shapes = unary_shapes(),
            .domain = {0.5, 2.0}});
  check_op({.name = "pow -1.5", .fn = [](const Inputs& in) { return pow(in[0], -1.5); }, .shapes = unary_shapes(),
            .domain = {0.5, 2.0}});
  check_op({.name = "pow -2", .fn = [](const Inputs& in) { return pow(in[0], -2.0); }, .shapes = unary_shapes(),
            .kinks = {0.0}, .margin = 0.5});
}

TEST(ElementwiseGrad, PowTensorExponent) {
  // Base in [0.5, 2] (log(base) enters the exponent's gradient), exponent in [-2, 2].
  std::vector<std::vector<Arg>> shapes;
  for (std::vector<Arg> set : binary_shapes()) {
    set[0] = set[0].in(0.5, 2.0);
    shapes.push_back(set);
  }
  for (std::vector<Arg> set : one_sided_shapes()) {
    set[0] = set[0].in(0.5, 2.0);
    shapes.push_back(set);
  }
  check_op({.name = "pow tensor", .fn = [](const Inputs& in) { return pow(in[0], in[1]); }, .shapes = shapes});
  // Negative bases with integral exponents are defined (and differentiable in the base).
  check_op({.name = "pow negative base",
            .fn = [](const Inputs& in) { return pow(in[0], full_like(in[0], 3.0)); },
            .shapes = unary_shapes()});
}

TEST(ElementwiseForward, PowAtZero) {
  // d/de 0^e is taken as 0 for e >= 0 (PyTorch), not 0 * log(0) = nan.
  Tensor x = tensor({0.0, 2.0}, {2}, kFloat64);
  Tensor e = tensor({2.0, 3.0}, {2}, kFloat64);
  x.requires_grad_();
  e.requires_grad_();
  sum(pow(x, e)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 12.0}));
  EXPECT_EQ(e.grad().at({0}), 0.0);
  EXPECT_NEAR(e.grad().at({1}), 8.0 * std::log(2.0), 1e-12);
}

// --- unary functions ----------------------------------------------------------------------------

TEST(ElementwiseGrad, SinCos) {
  check_op({.name = "sin", .fn = [](const Inputs& in) { return sin(in[0]); }, .shapes = unary_shapes()});
  check_op({.name = "cos", .fn = [](const Inputs& in) { return cos(in[0]); }, .shapes = unary_shapes()});
  // Through a composite, so the backward's own ops (cos, neg, mul) are exercised too.
  check_op({.name = "sin(cos(x)) * x", .fn = [](const Inputs& in) { return mul(sin(cos(in[0])), in[0]); },
            .shapes = unary_shapes()});
}

TEST(ElementwiseGrad, ExpLogSqrt) {
  check_op({.name = "exp", .fn = [](const Inputs& in) { return exp(in[0]); }, .shapes = unary_shapes()});
  check_op({.name = "log", .fn = [](const Inputs& in) { return log(in[0]); }, .shapes = unary_shapes(),
            .domain = {0.5, 3.0}});
  check_op({.name = "sqrt", .fn = [](const Inputs& in) { return sqrt(in[0]); }, .shapes = unary_shapes(),
            .domain = {0.5, 3.0}});
}

TEST(ElementwiseGrad, Abs) {
  check_op({.name = "abs", .fn = [](const Inputs& in) { return abs(in[0]); }, .shapes = unary_shapes(),
            .kinks = {0.0}, .margin = 0.1});
}

TEST(ElementwiseForward, AbsGradientAtZeroIsZero) {
  Tensor x = tensor({-1.0, 0.0, 2.0}, {3}, kFloat64);
  x.requires_grad_();
  sum(abs(x)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{-1.0, 0.0, 1.0}));
}

TEST(ElementwiseGrad, Clamp) {
  check_op({.name = "clamp [-0.5, 0.5]", .fn = [](const Inputs& in) { return clamp(in[0], -0.5, 0.5); },
            .shapes = unary_shapes(), .kinks = {-0.5, 0.5}, .margin = 0.05});
  check_op({.name = "clamp min", .fn = [](const Inputs& in) { return clamp(in[0], 0.25, std::nullopt); },
            .shapes = unary_shapes(), .kinks = {0.25}, .margin = 0.05});
  check_op({.name = "clamp max", .fn = [](const Inputs& in) { return clamp(in[0], std::nullopt, -0.25); },
            .shapes = unary_shapes(), .kinks = {-0.25}, .margin = 0.05});
}

TEST(ElementwiseForward, Clamp) {
  const Tensor x = tensor({-2, -0.5, 0, 0.7, 3}, {5}, kFloat64);
  EXPECT_EQ(clamp(x, -0.5, 0.5).to_vector<double>(), (std::vector<double>{-0.5, -0.5, 0, 0.5, 0.5}));
  EXPECT_EQ(clamp(x, 0.0, std::nullopt).to_vector<double>(), (std::vector<double>{0, 0, 0, 0.7, 3}));
  // min > max: every element becomes max, as torch.clamp.
  EXPECT_EQ(clamp(x, 1.0, 0.0).to_vector<double>(), (std::vector<double>{0, 0, 0, 0, 0}));
}

TEST(ElementwiseGrad, Where) {
  // in[0] is the condition source (no grad): where(in[0] > 0, in[1], in[2]), all three broadcast.
  const OpFn fn = [](const Inputs& in) { return where(gt(in[0], 0.0), in[1], in[2]); };
  check_op({.name = "where",
            .fn = fn,
            .shapes = {
                {C(2, 3).nograd(), C(2, 3), C(2, 3)},
                {C(3, 1).nograd(), C(4), C(3, 4)},
                {C(2, 3).nograd(), C(), C(3)},
                {C().nograd(), C(2, 2), C(2, 1)},
                {C(4).nograd(), C(3, 1), C()},
                {Tr(2, 3).nograd(), St(2, 3), Tr(2, 3)},
                {C(2, 1, 3).nograd(), Pad(2, 3), Rev(2, 1, 3)},
                {C(2, 3).nograd(), C(2, 3).nograd(), Tr(2, 3)},
                {C(2, 3).nograd(), St(3), C(2, 3).nograd()},
            },
            .kinks = {0.0}});
  // A condition in another dtype (float32) than the values.
  check_op({.name = "where float32 cond",
            .fn = [](const Inputs& in) { return where(to(gt(in[0], 0.0), kFloat32), in[1], in[2]); },
            .shapes = {{C(3, 1).nograd(), C(3), C()}, {C(2).nograd(), Tr(2, 2), C(2, 1)}},
            .kinks = {0.0}});
}

TEST(ElementwiseForward, Where) {
  const Tensor cond = tensor({1, 0, 1}, {3}, kFloat64);
  const Tensor a = tensor({1, 2, 3}, {3}, kFloat64);
  const Tensor b = scalar_tensor(-1, kFloat64);
  EXPECT_EQ(where(cond, a, b).to_vector<double>(), (std::vector<double>{1, -1, 3}));
  EXPECT_EQ(where(tensor_int64({0, 1, 0}, {3}), a, b).to_vector<double>(), (std::vector<double>{-1, 2, -1}));
}

// Elementwise backwards fed a permuted or sliced gradient by the ops after them.
TEST(ElementwiseGrad, NonContiguousUpstreamGradients) {
  check_op({.name = "mul then transpose", .fn = [](const Inputs& in) { return mul(in[0], in[1]).transpose(0, 1); },
            .shapes = {{C(2, 3), C(3)}, {Tr(2, 3), C(2, 1)}}, .no_scalar = "2-D"});
  check_op({.name = "div, clamp, abs, where then cat",
            .fn = [](const Inputs& in) {
              return cat({div(in[0], in[1]), clamp(in[0], -0.5, 0.5), abs(in[1]), where(gt(in[0], 0.0), in[0], in[1])}, 1);
            },
            .shapes = {{C(2, 3), C(2, 3)}, {Tr(2, 3), St(2, 3)}}, .kinks = {0.0, -0.5, 0.5}, .margin = 0.1,
            .no_scalar = "2-D"});
  check_op({.name = "pow, exp, sqrt, log then select",
            .fn = [](const Inputs& in) {
              return select(stack({pow(in[0], in[1]), exp(in[0]), sqrt(in[0]), log(in[0]), pow(in[0], 1.5)}, 0), 2, 1);
            },
            .shapes = {{C(2, 3), C(2, 3)}, {Rev(2, 3), Tr(2, 3)}}, .domain = {0.5, 2.0}, .no_scalar = "2-D"});
}

TEST(ElementwiseForward, LargeTensorsMatchALoop) {
  // Above the parallel grain (32768 elements): the OpenMP paths, split by rows and within one row.
  Generator g(9);
  const Tensor a = randn({250, 160}, g, kFloat64).t();  // [160, 250], transposed
  const Tensor b = randn({250}, g, kFloat64);
  const std::vector<double> y = add(a, b, 0.5).to_vector<double>();
  const std::vector<double> av = a.to_vector<double>();
  const std::vector<double> bv = b.to_vector<double>();
  for (std::int64_t i = 0; i < 160; ++i) {
    for (std::int64_t j = 0; j < 250; ++j) ASSERT_EQ(y[i * 250 + j], av[i * 250 + j] + 0.5 * bv[j]);
  }
  const Tensor flat = randn({70001}, g, kFloat32);
  const Tensor s = scalar_tensor(3.0f, kFloat32);
  const std::vector<float> prod = mul(flat, s).to_vector<float>();
  const std::vector<float> ex = exp(flat.slice(0, 1, 70001, 2)).to_vector<float>();
  const std::vector<float> fv = flat.to_vector<float>();
  for (std::size_t i = 0; i < fv.size(); ++i) ASSERT_EQ(prod[i], fv[i] * 3.0f);
  for (std::size_t i = 0; i < ex.size(); ++i) ASSERT_EQ(ex[i], std::exp(fv[2 * i + 1]));
}

TEST(ElementwiseForward, ZeroSizeInputs) {
  const auto one = [](OpFn fn) { return fn; };
  check_empty("add broadcast", one([](const Inputs& in) { return add(in[0], in[1], 2.0); }), {{0, 3}, {3}}, {0, 3});
  check_empty("mul 0-d", one([](const Inputs& in) { return mul(in[0], in[1]); }), {{0, 3}, {}}, {0, 3});
  check_empty("div size-1", one([](const Inputs& in) { return div(in[0], in[1]); }), {{1, 3}, {0, 1}}, {0, 3});
  check_empty("pow", one([](const Inputs& in) { return pow(in[0], in[1]); }), {{0, 3}, {0, 3}}, {0, 3});
  check_empty("where", one([](const Inputs& in) { return where(gt(in[0], 0.0), in[0], in[1]); }), {{0, 3}, {3}},
              {0, 3});
  check_empty("clamp", one([](const Inputs& in) { return clamp(in[0], 0.0, 1.0); }), {{0}}, {0});
}

TEST(ElementwiseForward, ComparisonsAreZeroOneWithoutGradient) {
  Tensor a = tensor({1, 2, 3}, {3}, kFloat32);
  a.requires_grad_();
  const Tensor b = tensor({2, 2}, {2, 1}, kFloat32);
  const Tensor g = gt(a, b);
  EXPECT_EQ(g.shape(), (Shape{2, 3}));
  EXPECT_EQ(g.dtype(), kFloat32);
  EXPECT_FALSE(g.requires_grad());
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(lt(a, b).to_vector<float>(), (std::vector<float>{1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(ge(a, b).to_vector<float>(), (std::vector<float>{0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(le(a, b).to_vector<float>(), (std::vector<float>{1, 1, 0, 1, 1, 0}));
  EXPECT_EQ(eq(a, b).to_vector<float>(), (std::vector<float>{0, 1, 0, 0, 1, 0}));
  EXPECT_EQ(gt(a, 1.5).to_vector<float>(), (std::vector<float>{0, 1, 1}));
  EXPECT_EQ(lt(a.t(), 2.5).to_vector<float>(), (std::vector<float>{1, 1, 0}));
  EXPECT_THROW_WITH(gt(a, zeros({2})), ShapeError, "gt", "[3]", "[2]");
  EXPECT_THROW_WITH(eq(a, zeros({3}, kFloat64)), DTypeError, "eq", "float32", "float64");
}

// --- bad inputs -----------------------------------------------------------------------------------

TEST(ElementwiseErrors, BroadcastMismatchNamesOpAndShapes) {
  const Tensor a = zeros({2, 3}, kFloat64);
  const Tensor b = zeros({4}, kFloat64);
  EXPECT_THROW_WITH(add(a, b), ShapeError, "add", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(sub(a, b), ShapeError, "sub", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(mul(a, b), ShapeError, "mul", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(div(a, b), ShapeError, "div", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(pow(a, b), ShapeError, "pow", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(a + b, ShapeError, "add", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(where(zeros({2, 3}, kFloat64), a, b), ShapeError, "where", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(where(b, a, a), ShapeError, "where", "[2, 3]", "[4]");
  EXPECT_THROW_WITH(add(zeros({3, 2}, kFloat64), zeros({2, 3}, kFloat64)), ShapeError, "add", "[3, 2]", "[2, 3]");
}

TEST(ElementwiseErrors, DTypeMixNamesBothDTypes) {
  const Tensor f32 = zeros({2}, kFloat32);
  const Tensor f64 = zeros({2}, kFloat64);
  EXPECT_THROW_WITH(add(f32, f64), DTypeError, "add", "float32", "float64");
  EXPECT_THROW_WITH(mul(f64, f32), DTypeError, "mul", "float64", "float32");
  EXPECT_THROW_WITH(div(f32, f64), DTypeError, "div", "float32", "float64");
  EXPECT_THROW_WITH(pow(f32, f64), DTypeError, "pow", "float32", "float64");
  EXPECT_THROW_WITH(where(f64, f32, f64), DTypeError, "where", "float32", "float64");
}

TEST(ElementwiseErrors, Int64InputsToFloatOps) {
  const Tensor i = tensor_int64({1, 2}, {2});
  EXPECT_THROW_WITH(add(i, i), DTypeError, "add", "int64");
  EXPECT_THROW_WITH(add(i, 1.0), DTypeError, "add", "int64");
  EXPECT_THROW_WITH(mul(i, 2.0), DTypeError, "mul", "int64");
  EXPECT_THROW_WITH(div(i, i), DTypeError, "div", "int64");
  EXPECT_THROW_WITH(neg(i), DTypeError, "neg", "int64");
  EXPECT_THROW_WITH(exp(i), DTypeError, "exp", "int64");
  EXPECT_THROW_WITH(log(i), DTypeError, "log", "int64");
  EXPECT_THROW_WITH(sqrt(i), DTypeError, "sqrt", "int64");
  EXPECT_THROW_WITH(abs(i), DTypeError, "abs", "int64");
  EXPECT_THROW_WITH(pow(i, 2.0), DTypeError, "pow", "int64");
  EXPECT_THROW_WITH(clamp(i, 0.0, 1.0), DTypeError, "clamp", "int64");
  EXPECT_THROW_WITH(add(i, zeros({2}, kFloat32)), DTypeError, "add", "int64", "float32");
  EXPECT_THROW_WITH(i.requires_grad_(), DTypeError, "requires_grad_", "int64");
}

TEST(ElementwiseErrors, ClampWithoutBounds) {
  EXPECT_THROW_WITH(clamp(zeros({2}), std::nullopt, std::nullopt), ValueError, "clamp", "min", "max");
}
