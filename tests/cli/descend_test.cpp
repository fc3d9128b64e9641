// `descent descend`: the expression parser (values, gradients, errors), the built-in surfaces'
// minima, what the optimizers do on them (convergence, divergence, momentum escaping a local
// minimum), the contour plot and the page, and the messages for bad arguments.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <sstream>
#include <string>

#include "cli_fixture.h"
#include "contour_chart.h"
#include "descend_command.h"
#include "descent/autograd/gradcheck.h"
#include "descent/core/error.h"
#include "descent/ops/elementwise.h"
#include "expression.h"
#include "surface.h"

namespace descent::cli {
namespace {

using testing::CliTest;

// f at one point, through the tensor evaluation (0-d float64 tensors).
double eval(const std::string& text, double x, double y) {
  return Expression::parse(text)(scalar_tensor(x, kFloat64), scalar_tensor(y, kFloat64)).item();
}

// The gradient at (x, y) from backward through a [2] parameter, as descend computes it.
Point gradient(const Expression& f, double x, double y) {
  Tensor p = tensor({x, y}, {2}, kFloat64).requires_grad_();
  f(p.select(0, 0), p.select(0, 1)).backward();
  return {p.grad().at({0}), p.grad().at({1})};
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "(no ValueError)";
}

// --- the expression parser ---------------------------------------------------------------------------

TEST(DescendExpression, ValuesMatchHandComputation) {
  EXPECT_DOUBLE_EQ(eval("x^2 + 10*y^2", 1, 2), 41);
  EXPECT_DOUBLE_EQ(eval("(1-x)^2 + 100*(y-x^2)^2", 0.5, 1), 0.25 + 100 * 0.5625);
  EXPECT_DOUBLE_EQ(eval("-x^2", 3, 0), -9);            // ^ binds tighter than unary minus
  EXPECT_DOUBLE_EQ(eval("2^3^2 + 0*x", 1, 1), 512);     // and is right-associative
  EXPECT_DOUBLE_EQ(eval("x^-1", 4, 0), 0.25);           // signed exponent
  EXPECT_DOUBLE_EQ(eval("x**2 + y", 3, 1), 10);         // ** as ^
  EXPECT_DOUBLE_EQ(eval("x - y - 1", 5, 1), 3);         // left-associative
  EXPECT_DOUBLE_EQ(eval("x / y / 2", 8, 2), 2);
  EXPECT_DOUBLE_EQ(eval("2*-x + +y", 1, 5), 3);
  EXPECT_DOUBLE_EQ(eval("1.5e1*x + .5*y + 2E-1", 1, 2), 16.2);
  EXPECT_DOUBLE_EQ(eval("pi*x + e*y", 1, 1), std::numbers::pi + std::numbers::e);
  EXPECT_DOUBLE_EQ(eval("2^x", 3, 0), 8);               // a constant base with a tensor exponent
  EXPECT_DOUBLE_EQ(eval("x^y", 2, 3), 8);
  const double x = 0.7, y = 1.9;
  EXPECT_NEAR(eval("sin(x)*cos(y) + tan(x) - exp(-y) + log(y) + sqrt(x) + tanh(y) + abs(-x) + sin(pi/2)", x, y),
              std::sin(x) * std::cos(y) + std::tan(x) - std::exp(-y) + std::log(y) + std::sqrt(x) + std::tanh(y) + x + 1, 1e-12);
  EXPECT_DOUBLE_EQ(eval("  x\t*  ( y+1 ) ", 2, 3), 8);  // spaces anywhere
}

TEST(DescendExpression, EvaluatesOverAGrid) {
  const auto f = Expression::parse("x + 10*y");
  Tensor v = f(tensor({1, 2, 3}, {1, 3}, kFloat64), tensor({0, 1}, {2, 1}, kFloat64));
  EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{1, 2, 3, 11, 12, 13}));
}

TEST(DescendExpression, GradientsMatchHandComputationAndFiniteDifferences) {
  // Rosenbrock at (0.5, 1): df/dx = -2 (1 - x) - 400 x (y - x^2) = -151, df/dy = 200 (y - x^2) = 150.
  const Point g = gradient(Expression::parse("(1-x)^2 + 100*(y-x^2)^2"), 0.5, 1);
  EXPECT_NEAR(g.x, -151, 1e-9);
  EXPECT_NEAR(g.y, 150, 1e-9);
  // Every function and operator, against central differences of the expression's own values.
  for (const char* text : {"sin(x)*cos(y)", "tan(x*y)", "exp(-x^2 - y^2)", "log(x^2 + y^2)", "sqrt(x^2 + y)", "tanh(3*x - y)",
                           "abs(x - 2*y)", "x^y", "2^(x*y)", "x/y - y/x", "-(x - y)^3", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"}) {
    const auto f = Expression::parse(text);
    for (const Point p : {Point{0.7, 1.3}, Point{1.9, 0.4}}) {
      const Point a = gradient(f, p.x, p.y);
      const double h = 1e-6;
      const double nx = (eval(text, p.x + h, p.y) - eval(text, p.x - h, p.y)) / (2 * h);
      const double ny = (eval(text, p.x, p.y + h) - eval(text, p.x, p.y - h)) / (2 * h);
      EXPECT_NEAR(a.x, nx, 1e-6 * (1 + std::fabs(nx))) << text << " at (" << p.x << ", " << p.y << ")";
      EXPECT_NEAR(a.y, ny, 1e-6 * (1 + std::fabs(ny))) << text << " at (" << p.x << ", " << p.y << ")";
    }
  }
}

TEST(DescendExpression, SyntaxErrorsNameThePosition) {
  auto parse_error = [](const std::string& text) { return error_of([&] { Expression::parse(text); }); };
  EXPECT_NE(parse_error("x^2 + z").find("unknown name 'z' at position 7"), std::string::npos) << parse_error("x^2 + z");
  EXPECT_NE(parse_error("x^2 + z").find("\n  x^2 + z\n        ^"), std::string::npos);  // a caret under the z
  EXPECT_NE(parse_error("cosh(x)").find("unknown name 'cosh' at position 1"), std::string::npos);
  EXPECT_NE(parse_error("x^2 +").find("the expression ends at position 6"), std::string::npos) << parse_error("x^2 +");
  EXPECT_NE(parse_error("(x + y").find("unclosed '(' at position 1"), std::string::npos) << parse_error("(x + y");
  EXPECT_NE(parse_error("(x + y))").find("unexpected ')' at position 8"), std::string::npos) << parse_error("(x + y))");
  EXPECT_NE(parse_error("2x").find("unexpected 'x' at position 2 (a missing operator?"), std::string::npos) << parse_error("2x");
  EXPECT_NE(parse_error("sin x").find("expected '(' after the function 'sin' at position 5"), std::string::npos) << parse_error("sin x");
  EXPECT_NE(parse_error("x $ y").find("unexpected '$' at position 3"), std::string::npos) << parse_error("x $ y");
  EXPECT_NE(parse_error("x * * y").find("unexpected '*' at position 5"), std::string::npos) << parse_error("x * * y");
  EXPECT_NE(parse_error("").find("the expression ends at position 1"), std::string::npos) << parse_error("");
  EXPECT_NE(parse_error("3 + 4").find("uses neither x nor y"), std::string::npos);
  // Deep nesting and long chains are refused, not a stack overflow.
  EXPECT_NE(parse_error(std::string(5000, '(') + "x" + std::string(5000, ')')).find("nesting deeper than"), std::string::npos);
  std::string chain = "x";
  for (int i = 0; i < 5000; ++i) chain += "+x";
  EXPECT_NE(parse_error(chain).find("expression too long"), std::string::npos);
}

// --- the built-in surfaces ---------------------------------------------------------------------------

TEST(DescendSurface, KnownMinimaHaveZeroGradientAndTheirValue) {
  for (const Surface& s : builtin_surfaces()) {
    const auto f = Expression::parse(s.formula);
    ASSERT_FALSE(s.minima.empty()) << s.name;
    EXPECT_TRUE(s.range.contains(s.start)) << s.name;
    for (const Minimum& m : s.minima) {
      const Point g = gradient(f, m.at.x, m.at.y);
      EXPECT_LT(std::hypot(g.x, g.y), 1e-9) << s.name << " at (" << m.at.x << ", " << m.at.y << ")";
      EXPECT_NEAR(eval(s.formula, m.at.x, m.at.y), m.value, 1e-12) << s.name;
      // A minimum, not a saddle: every nearby point is higher.
      for (double a = 0; a < 6.28; a += 0.5)
        EXPECT_GT(eval(s.formula, m.at.x + 1e-3 * std::cos(a), m.at.y + 1e-3 * std::sin(a)), m.value) << s.name;
    }
  }
  const auto& two = find_surface("two_minima");
  ASSERT_EQ(two.minima.size(), 2u);
  EXPECT_EQ(two.minima[0].label, "global");
  EXPECT_LT(two.minima[0].value, two.minima[1].value);
}

TEST(DescendSurface, UnknownNameListsTheKnownOnes) {
  EXPECT_NE(error_of([] { find_surface("banana"); }).find("unknown surface 'banana' (known: bowl, valley, rosenbrock, himmelblau, two_minima"),
            std::string::npos);
}

// --- optimizers on the surfaces --------------------------------------------------------------------

struct Outcome {
  DescentPath path;
  Point end = {};
};

Outcome descend_on(const std::string& formula, const std::string& spec, Point start, std::int64_t steps, Range box = {-1e3, 1e3, -1e3, 1e3}) {
  Tensor p = tensor({start.x, start.y}, {2}, kFloat64).requires_grad_();
  auto opt = optimizer_from_spec(spec, p);
  Outcome o{.path = run_descent(Expression::parse(formula), *opt, p, steps, box)};
  o.end = o.path.points.back();
  return o;
}

TEST(DescendRun, SgdOnTheBowlConverges) {
  const auto o = descend_on("x^2 + y^2", "sgd lr=0.1", {-3, 2.5}, 500);
  EXPECT_NE(o.path.end, PathEnd::Diverged);
  EXPECT_LT(std::hypot(o.end.x, o.end.y), 1e-8);
  // Each step multiplies the point by 1 - 2 lr = 0.8: exactly the textbook rate.
  ASSERT_GE(o.path.points.size(), 3u);
  EXPECT_NEAR(o.path.points[1].x, -3 * 0.8, 1e-12);
  EXPECT_NEAR(o.path.points[2].y, 2.5 * 0.64, 1e-12);
  EXPECT_EQ(o.path.points.size(), o.path.losses.size());
  EXPECT_EQ(o.path.steps + 1, static_cast<std::int64_t>(o.path.points.size()));
}

TEST(DescendRun, TooLargeALearningRateDivergesWithoutThrowing) {
  // 1 - 2 lr = -1.2: every step overshoots further; the path leaves the box and is reported.
  const auto o = descend_on("x^2 + y^2", "sgd lr=1.1", {-3, 2.5}, 1000);
  EXPECT_EQ(o.path.end, PathEnd::Diverged);
  EXPECT_NE(o.path.why.find("left the box"), std::string::npos);
  EXPECT_LT(o.path.steps, 100);
  EXPECT_EQ(o.path.points.size(), o.path.losses.size());
  // A loss that becomes NaN (log of a negative number) stops the path too.
  const auto n = descend_on("log(x) + y^2", "sgd lr=1", {0.5, 0}, 100);
  EXPECT_EQ(n.path.end, PathEnd::Diverged);
  EXPECT_NE(n.path.why.find("loss is nan"), std::string::npos) << n.path.why;
}

TEST(DescendRun, MomentumEscapesTheLocalMinimumWherePlainSgdStays) {
  const Surface& s = find_surface("two_minima");
  const Point global = s.minima[0].at, local = s.minima[1].at;
  const auto sgd = descend_on(s.formula, "sgd lr=0.01", s.start, s.steps);
  const auto momentum = descend_on(s.formula, "momentum lr=0.01 momentum=0.9", s.start, s.steps);
  const auto nesterov = descend_on(s.formula, "nesterov lr=0.01", s.start, s.steps);
  EXPECT_LT(std::hypot(sgd.end.x - local.x, sgd.end.y - local.y), 0.05) << sgd.end.x << ", " << sgd.end.y;
  EXPECT_LT(std::hypot(momentum.end.x - global.x, momentum.end.y - global.y), 0.05) << momentum.end.x << ", " << momentum.end.y;
  EXPECT_LT(std::hypot(nesterov.end.x - global.x, nesterov.end.y - global.y), 0.05) << nesterov.end.x << ", " << nesterov.end.y;
}

TEST(DescendRun, AdaptiveMethodsOutrunSgdOnTheValley) {
  const Surface& s = find_surface("valley");
  const auto sgd = descend_on(s.formula, "sgd lr=0.4", s.start, s.steps);
  const auto adam = descend_on(s.formula, "adam lr=0.3", s.start, s.steps);
  const auto momentum = descend_on(s.formula, "momentum lr=0.1 momentum=0.9", s.start, s.steps);
  EXPECT_GT(sgd.path.losses.back(), 10 * adam.path.losses.back());
  EXPECT_GT(sgd.path.losses.back(), 10 * momentum.path.losses.back());
}

TEST(DescendRun, OptimizerSpecsSetPyTorchOptions) {
  Tensor p = tensor({0, 0}, {2}, kFloat64).requires_grad_();
  auto adam = optimizer_from_spec("adam lr=0.1 betas=0.8,0.99 amsgrad=true", p);
  EXPECT_EQ(adam->name(), "Adam");
  EXPECT_DOUBLE_EQ(adam->lr(0), 0.1);
  const auto betas = std::get<std::pair<double, double>>(adam->option(0, "betas"));
  EXPECT_EQ(betas, (std::pair{0.8, 0.99}));
  EXPECT_TRUE(std::get<bool>(adam->option(0, "amsgrad")));
  auto nesterov = optimizer_from_spec("sgd nesterov=true momentum=0.5 lr=0.2", p);  // order does not matter
  EXPECT_DOUBLE_EQ(std::get<double>(nesterov->option(0, "momentum")), 0.5);
  EXPECT_TRUE(std::get<bool>(nesterov->option(0, "nesterov")));
  EXPECT_DOUBLE_EQ(optimizer_from_spec("sgd", p)->lr(0), 0.01);
  EXPECT_DOUBLE_EQ(optimizer_from_spec("adagrad", p)->lr(0), 0.01);  // PyTorch's default
  for (const char* name : {"momentum", "adadelta", "rmsprop", "adamw", "adamax", "nadam"}) EXPECT_NO_THROW(optimizer_from_spec(name, p)) << name;
}

// --- the contour plot ------------------------------------------------------------------------------------

TEST(DescendContour, LevelsAreLogSpacedForNarrowValleysAndEvenOtherwise) {
  std::vector<double> bowl, banana;
  for (int i = 0; i < 50; ++i)
    for (int j = 0; j < 50; ++j) {
      const double x = -2 + 4.0 * i / 49, y = -1 + 4.0 * j / 49;
      bowl.push_back(x * x + y * y);
      banana.push_back((1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x));
    }
  const auto even = contour_levels(bowl, 10);
  ASSERT_EQ(even.size(), 10u);
  EXPECT_NEAR(even[1] - even[0], even[9] - even[8], 1e-9);
  const auto log = contour_levels(banana, 10);
  ASSERT_EQ(log.size(), 10u);
  EXPECT_NEAR((log[2] - log[1]) / (log[1] - log[0]), (log[9] - log[8]) / (log[8] - log[7]), 1e-6);  // a constant ratio
  EXPECT_LT(log[0], 5);  // the valley floor gets lines
  EXPECT_TRUE(contour_levels({std::nan(""), INFINITY}).empty());
}

TEST(DescendContour, ClipsSegmentsToTheWindow) {
  const Range box{0, 1, 0, 1};
  Point a{-1, 0.5}, b{2, 0.5};
  ASSERT_TRUE(clip_segment(a, b, box));
  EXPECT_DOUBLE_EQ(a.x, 0);
  EXPECT_DOUBLE_EQ(b.x, 1);
  Point c{2, 2}, d{3, 5};
  EXPECT_FALSE(clip_segment(c, d, box));
  Point e{0.2, 0.2}, g{0.4, 0.6};  // inside: unchanged
  ASSERT_TRUE(clip_segment(e, g, box));
  EXPECT_DOUBLE_EQ(g.y, 0.6);
}

// --- the command ------------------------------------------------------------------------------------------

class DescendCommand : public CliTest {
 protected:
  std::string run(DescendArgs args) {
    args.output = (dir_ / "descend.html").string();
    std::ostringstream out, err;
    EXPECT_EQ(descend_command(args, out, err), 0);
    return out.str();
  }
  std::string html() const { return testing::slurp(dir_ / "descend.html"); }
  std::string error(DescendArgs args) {
    args.output = (dir_ / "descend.html").string();
    std::ostringstream out, err;
    return error_of([&] { descend_command(args, out, err); });
  }
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(DescendCommand, DefaultsDrawTheValleyWithThreeOptimizers) {
  const std::string out = run({});
  EXPECT_NE(out.find("surface: valley"), std::string::npos) << out;
  for (const char* spec : {"sgd lr=0.4", "momentum lr=0.1 momentum=0.9", "adam lr=0.3"}) EXPECT_NE(out.find(spec), std::string::npos) << out;
  EXPECT_NE(out.find("from (0, 0)"), std::string::npos) << out;  // distance to the minimum
  const std::string page = html();
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(page, "<svg id=\"contour\""), 1u);
  EXPECT_EQ(count(page, "<svg id=\"losses\""), 1u);
  EXPECT_EQ(count(page, "class=\"descent-path\""), 3u);
  EXPECT_EQ(count(page, "class=\"start\""), 3u);
  EXPECT_GT(count(page, "class=\"level\""), 5u);  // contour lines
  EXPECT_EQ(count(page, "class=\"minimum\""), 1u);
  EXPECT_EQ(count(page, "<path class=\"series\""), 3u);  // one loss curve each
  EXPECT_EQ(page.find("http://", page.find("<body>")), page.find("http://www.w3.org/2000/svg", page.find("<body>")));  // self-contained
}

TEST_F(DescendCommand, ReportsDivergenceInTheTableAndThePicture) {
  const std::string out = run({.surface = "bowl"});
  EXPECT_NE(out.find("sgd lr=1.1"), std::string::npos);
  EXPECT_NE(out.find("diverged at step"), std::string::npos) << out;
  EXPECT_EQ(count(out, "diverged"), 1u) << out;
  EXPECT_NE(html().find("(diverged)"), std::string::npos);
}

TEST_F(DescendCommand, RunsAGivenExpressionWithGivenOptimizers) {
  const std::string out = run({.expr = "x^2 + 10*y^2",
                               .optimizers = {"sgd lr=0.05", "nesterov lr=0.02", "adagrad lr=0.5", "adadelta lr=1", "rmsprop lr=0.05", "adamw lr=0.1"},
                               .start = "2,-1.5",
                               .steps = 50,
                               .range = "-3,3,-2,2"});
  EXPECT_NE(out.find("f(x, y) = x^2 + 10*y^2"), std::string::npos) << out;
  EXPECT_NE(out.find("start: (2, -1.5)   steps: 50"), std::string::npos) << out;
  EXPECT_EQ(count(html(), "class=\"descent-path\""), 6u);
  EXPECT_NE(html().find("data-name=\"adadelta lr=1\""), std::string::npos);
}

TEST_F(DescendCommand, BadInputsNameTheBadValue) {
  EXPECT_NE(error({.optimizers = {"adamm lr=0.1"}}).find("unknown optimizer 'adamm'"), std::string::npos);
  EXPECT_NE(error({.optimizers = {"adam mom=0.9"}}).find("unknown option 'mom'"), std::string::npos) << error({.optimizers = {"adam mom=0.9"}});
  EXPECT_NE(error({.optimizers = {"sgd lr=fast"}}).find("'fast' is not a number"), std::string::npos);
  EXPECT_NE(error({.optimizers = {"sgd lr"}}).find("'lr' is not key=value"), std::string::npos);
  EXPECT_NE(error({.optimizers = {"sgd lr=-1"}}).find("-1"), std::string::npos);
  EXPECT_NE(error({.optimizers = {"sgd lr=0.1 nesterov=true"}}).find("--optimizer 'sgd lr=0.1 nesterov=true'"), std::string::npos);
  EXPECT_NE(error({.steps = 0}).find("--steps 0"), std::string::npos);
  EXPECT_NE(error({.steps = -5}).find("--steps -5"), std::string::npos);
  EXPECT_NE(error({.range = "1,0,0,1"}).find("--range '1,0,0,1': expected xmin < xmax"), std::string::npos);
  EXPECT_NE(error({.range = "1,2,3"}).find("expected 4 numbers"), std::string::npos);
  EXPECT_NE(error({.start = "a,1"}).find("--start 'a,1': 'a' is not a finite number"), std::string::npos);
  EXPECT_NE(error({.start = "50,0"}).find("the start (50, 0) is outside the plotted window"), std::string::npos);
  EXPECT_NE(error({.surface = "banana"}).find("unknown surface 'banana'"), std::string::npos);
  EXPECT_NE(error({.surface = "bowl", .expr = "x^2"}).find("not both"), std::string::npos);
  EXPECT_NE(error({.expr = "x^2 + q"}).find("unknown name 'q' at position 7"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "descend.html"));  // nothing written on an error
}

}  // namespace
}  // namespace descent::cli
