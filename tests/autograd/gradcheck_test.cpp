// The public gradcheck: passes for correct gradients, fails (with a useful message) for wrong ones,
// validates its inputs, leaves them as it found them, and handles non-contiguous inputs.

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include <descent/descent.h>

using namespace descent;

namespace {

using Doubles = std::vector<double>;

Tensor leaf(const Tensor& t) {
  Tensor l = t.detach();
  l.requires_grad_();
  return l;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// y = x * x with a deliberately wrong backward: 3x instead of 2x, for one element only when
// `only` >= 0 (so that gradcheck must find the right element).
struct WrongSquareBackward final : Node {
  explicit WrongSquareBackward(std::int64_t only) : Node("wrong_square"), only(only) {}
  std::int64_t only;
  Tensor x;
  std::vector<Tensor> apply(const Tensor& gy) override {
    Tensor g = mul(gy, mul(x, 2.0)).contiguous().clone();
    for (std::int64_t i = 0; i < g.numel(); ++i) {
      if (only < 0 || i == only) g.set_flat(i, gy.flat(i) * 3.0 * x.flat(i));
    }
    return {g};
  }
  void release_saved() override { x = Tensor(); }
};

Tensor wrong_square(const Tensor& x, std::int64_t only = -1) {
  Tensor y = mul(x.detach(), x.detach());  // fresh, with no history of its own
  if (auto node = make_node<WrongSquareBackward>({&x}, only)) {
    node->x = x.detach();
    set_history(y, std::move(node));
  }
  return y;
}

TEST(Gradcheck, PassesForCorrectFunctions) {
  Generator g(0);
  Tensor a = leaf(randn({3, 4}, g, kFloat64));
  Tensor b = leaf(randn({4}, g, kFloat64));
  // Non-scalar output (projected), broadcasting, two inputs.
  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return mul(tanh(in[0]), exp(in[1])); }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_TRUE(r.message.empty());
  EXPECT_LT(r.max_abs_error, 1e-6);
  // Scalar output.
  r = gradcheck([](const std::vector<Tensor>& in) { return sum(mul(in[0], in[0])); }, {a});
  EXPECT_TRUE(r.ok) << r.message;
  // A correct custom node (the right formula, 2x) passes too.
  Tensor x = leaf(randn({5}, g, kFloat64));
  r = gradcheck(
      [](const std::vector<Tensor>& in) {
        Tensor y = mul(in[0].detach(), in[0].detach());
        if (auto node = make_node<WrongSquareBackward>({&in[0]}, std::int64_t{99})) {  // wrong only at 99
          node->x = in[0].detach();
          set_history(y, std::move(node));
        }
        return y;
      },
      {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, FailsForAWrongGradientNamingInputAndElement) {
  Generator g(1);
  Tensor c = leaf(randn({2}, g, kFloat64));
  Tensor x = leaf(full({2, 3}, 1.5, kFloat64));
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) { return add(sum(in[0]), sum(wrong_square(in[1], 4))); }, {c, x});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_TRUE(contains(r.message, "input 1")) << r.message;
  EXPECT_TRUE(contains(r.message, "element 4")) << r.message;
  EXPECT_TRUE(contains(r.message, "[2, 3]")) << r.message;
  // analytic 3 * 1.5 = 4.5 vs numeric 2 * 1.5 = 3.
  EXPECT_TRUE(contains(r.message, "4.5")) << r.message;
  EXPECT_TRUE(contains(r.message, "analytic")) << r.message;
  EXPECT_NEAR(r.max_abs_error, 1.5, 1e-5);

  // Wrong everywhere, non-scalar output: the first element is reported.
  Tensor z = leaf(randn({4}, g, kFloat64));
  r = gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0]); }, {z});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.message, "input 0")) << r.message;
  EXPECT_TRUE(contains(r.message, "element 0")) << r.message;
}

TEST(Gradcheck, RejectsFloat32Inputs) {
  Tensor x = leaf(ones({3}, kFloat32));
  try {
    gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x});
    FAIL() << "did not throw";
  } catch (const DTypeError& e) {
    EXPECT_TRUE(contains(e.what(), "float32")) << e.what();
    EXPECT_TRUE(contains(e.what(), "float64")) << e.what();
  }
  // A float32 input that does not require grad is not checked, and so is allowed.
  Tensor y = leaf(ones({3}, kFloat64));
  Tensor constant = ones({3}, kFloat32);
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) { return mul(in[0], in[1].to(kFloat64)); }, {y, constant});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, RejectsCallsWhereNothingRequiresGrad) {
  Tensor x = ones({3}, kFloat64);
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x}), ValueError);
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {}), ValueError);
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {Tensor()}), ValueError);
}

TEST(Gradcheck, RejectsBadOptionsAndNonLeaves) {
  Tensor x = leaf(ones({2}, kFloat64));
  GradcheckOptions options;
  options.eps = 0;
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x}, options), ValueError);
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {mul(x, 2.0)}), AutogradError);
  // The function must return float64.
  EXPECT_THROW(gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]).to(kFloat32); }, {x}), DTypeError);
}

TEST(Gradcheck, RestoresInputsAfterPerturbing) {
  Generator g(2);
  Tensor a = leaf(randn({3, 2}, g, kFloat64));
  Tensor b = leaf(randn({2}, g, kFloat64));
  const Doubles a_before = a.to_vector<double>();
  const Doubles b_before = b.to_vector<double>();
  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return sigmoid(add(in[0], in[1])); }, {a, b});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(a.to_vector<double>(), a_before);  // bit for bit
  EXPECT_EQ(b.to_vector<double>(), b_before);
  // Also when the check fails.
  r = gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0]); }, {a});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(a.to_vector<double>(), a_before);
  EXPECT_TRUE(a.requires_grad());
  EXPECT_TRUE(a.is_leaf());
  // Also when the function throws on a perturbed input.
  Tensor x = leaf(tensor({1, 2}, {2}, kFloat64));
  EXPECT_THROW(gradcheck(
                   [](const std::vector<Tensor>& in) {
                     if (in[0].flat(1) != 2.0) throw ValueError("perturbed");
                     return exp(in[0]);
                   },
                   {x}),
               ValueError);
  EXPECT_EQ(x.to_vector<double>(), (Doubles{1, 2}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Gradcheck, LeavesExistingGradientsAlone) {
  // torch.autograd.gradcheck computes its gradients apart from .grad; so does descent's.
  Tensor x = leaf(tensor({1, 2}, {2}, kFloat64));
  sum(mul(x, 5.0)).backward();
  ASSERT_EQ(x.grad().to_vector<double>(), (Doubles{5, 5}));
  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return exp(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().to_vector<double>(), (Doubles{5, 5}));
  // And an input without a gradient stays without one.
  Tensor y = leaf(tensor({1, 2}, {2}, kFloat64));
  EXPECT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return exp(in[0]); }, {y}).ok);
  EXPECT_FALSE(y.grad().defined());
}

TEST(Gradcheck, WorksWithNonContiguousInputs) {
  Generator g(3);
  const Tensor base = randn({4, 3}, g, kFloat64);
  Tensor xt = leaf(base.t());  // [3, 4], strides [1, 3]
  ASSERT_FALSE(xt.is_contiguous());
  Tensor xs = leaf(randn({4, 6}, g, kFloat64).slice(1, 1, 6, 2));  // [4, 3], strides [6, 2], offset 1
  ASSERT_FALSE(xs.is_contiguous());
  ASSERT_EQ(xs.offset(), 1);
  const Doubles xt_before = xt.to_vector<double>();
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) { return mul(tanh(in[0]), in[1].t()); }, {xt, xs});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(xt.to_vector<double>(), xt_before);
  EXPECT_EQ(base.t().to_vector<double>(), xt_before);  // the shared storage is restored too
  // A wrong gradient on a non-contiguous input is found at the right (row-major) element.
  r = gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0], 5); }, {xt});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.message, "element 5")) << r.message;
}

TEST(Gradcheck, ZeroGradientWhenTheOutputDoesNotDependOnAnInput) {
  Tensor x = leaf(ones({2}, kFloat64));
  Tensor unused = leaf(ones({3}, kFloat64));
  GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return mul(in[0], 2.0); }, {x, unused});
  EXPECT_TRUE(r.ok) << r.message;
}

// The central difference both gradcheck and `descent gradcheck` use: the derivative of a scalar
// function of one element, the element restored bit for bit, also when the function throws.
TEST(Gradcheck, CentralDifference) {
  const Tensor x = tensor({0.5, 2.0, -1.0}, {3}, kFloat64);
  const auto cube_sum = [&] { return sum(mul(mul(x, x), x)).item(); };
  EXPECT_NEAR(central_difference(x, 1, 1e-5, cube_sum), 3 * 2.0 * 2.0, 1e-6);  // d/dx x^3 = 3 x^2
  EXPECT_NEAR(central_difference(x, 2, 1e-5, cube_sum), 3.0, 1e-6);
  EXPECT_EQ(x.to_vector<double>(), (Doubles{0.5, 2.0, -1.0}));
  const auto throws_when_moved = [&]() -> double {
    if (x.flat(0) != 0.5) throw ValueError("perturbed");
    return 0.0;
  };
  EXPECT_THROW(central_difference(x, 0, 1e-3, throws_when_moved), ValueError);
  EXPECT_EQ(x.to_vector<double>(), (Doubles{0.5, 2.0, -1.0}));
  // Bad arguments: a step that is not a positive finite number, an element past the end.
  for (double eps : {0.0, -1e-6, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(central_difference(x, 0, eps, cube_sum), ValueError) << eps;
  }
  EXPECT_THROW(central_difference(x, 3, 1e-5, cube_sum), IndexError);
  EXPECT_EQ(x.to_vector<double>(), (Doubles{0.5, 2.0, -1.0}));
}

}  // namespace
