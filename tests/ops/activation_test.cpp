// Gradient checks, forward sanity and bad-input tests for the activations (descent/ops/activation.h).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

std::vector<std::vector<Arg>> unary_shapes() {
  return {{C(2, 3)}, {C()}, {C(5)}, {C(1, 4, 1)}, {Tr(3, 2)}, {St(2, 4)}, {Pad(2, 3)}, {Rev(2, 3, 2)}};
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

}  // namespace

TEST(ActivationGrad, ReluFamily) {
  check_op({.name = "relu", .fn = [](const Inputs& in) { return relu(in[0]); }, .shapes = unary_shapes(),
            .kinks = {0.0}, .margin = 0.05});
  check_op({.name = "leaky_relu default", .fn = [](const Inputs& in) { return leaky_relu(in[0]); },
            .shapes = unary_shapes(), .kinks = {0.0}});
  check_op({.name = "leaky_relu 0.2", .fn = [](const Inputs& in) { return leaky_relu(in[0], 0.2); },
            .shapes = unary_shapes(), .kinks = {0.0}});
  check_op({.name = "leaky_relu -0.5", .fn = [](const Inputs& in) { return leaky_relu(in[0], -0.5); },
            .shapes = unary_shapes(), .kinks = {0.0}});
  check_op({.name = "leaky_relu 1.5", .fn = [](const Inputs& in) { return leaky_relu(in[0], 1.5); },
            .shapes = unary_shapes(), .kinks = {0.0}});
}

TEST(ActivationForward, ReluAtZeroAndNan) {
  Tensor x = tensor({-1.0, 0.0, 2.0}, {3}, kFloat64);
  x.requires_grad_();
  sum(relu(x)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1}));  // 0 at the kink, as PyTorch
  EXPECT_TRUE(std::isnan(relu(scalar_tensor(std::nan(""), kFloat64)).item()));
  EXPECT_EQ(leaky_relu(x.detach(), 0.1).to_vector<double>(), (std::vector<double>{-0.1, 0.0, 2.0}));
}

// At a NaN input PyTorch 1.13 passes relu's gradient through (threshold_backward: 0 only where the
// output is <= 0) and scales leaky_relu's by the slope (leaky_relu_backward: g only where x > 0).
TEST(ActivationGrad, ReluAndLeakyReluAtNanFollowPyTorch) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor x = tensor({std::nan(""), -1.0, 2.0, 0.0}, {4}, dtype);
    x.requires_grad_();
    sum(relu(x)).backward();
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 0, 1, 0}));
    x.set_grad(Tensor());
    sum(leaky_relu(x, 0.5)).backward();
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.5, 0.5, 1, 0.5}));
    x.set_grad(Tensor());
    sum(leaky_relu(x, 0.0)).backward();
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1, 0}));
  }
}

TEST(ActivationGrad, Prelu) {
  // prelu(x, w) with both x and w checked; w has 1 element or one per channel (dim 1 of x).
  const OpFn fn = [](const Inputs& in) { return prelu(in[0], in[1]); };
  check_op({.name = "prelu, 1 weight",
            .fn = fn,
            .shapes = {{C(2, 3), C(1)},
                       {C(2, 3, 2), C(1)},
                       {C(), C(1)},
                       {C(4), C(1)},
                       {Tr(2, 3), C(1)},
                       {St(2, 2, 2), C(1)},
                       {C(2, 3), C()},
                       {C(2, 3).nograd(), C(1)},
                       {Rev(2, 3, 2), C(1).nograd()}},
            .kinks = {0.0}});
  check_op({.name = "prelu, C weights",
            .fn = fn,
            .shapes = {{C(2, 3), C(3)},
                       {C(2, 3, 2), C(3)},
                       {C(2, 3, 2, 2), St(3)},
                       {Tr(2, 3), Pad(3)},
                       {Rev(2, 3, 2), C(3)},
                       {C(1, 3, 1), C(3)},
                       {C(2, 1), C(1)},
                       {St(2, 2, 3).nograd(), C(2)},
                       {Tr(2, 3, 2), C(3).nograd()}},
            .kinks = {0.0},
            .no_scalar = "checked by the 1-weight case"});
}

TEST(ActivationForward, Prelu) {
  const Tensor x = tensor({-1, 2, -3, -4, 5, -6}, {2, 3}, kFloat64);
  EXPECT_EQ(prelu(x, tensor({0.5}, {1}, kFloat64)).to_vector<double>(), (std::vector<double>{-0.5, 2, -1.5, -2, 5, -3}));
  EXPECT_EQ(prelu(x, tensor({1, 2, 3}, {3}, kFloat64)).to_vector<double>(), (std::vector<double>{-1, 2, -9, -4, 5, -18}));
  Tensor w = tensor({0.1, 0.2, 0.3}, {3}, kFloat64);
  w.requires_grad_();
  sum(prelu(x, w)).backward();
  EXPECT_EQ(w.grad().shape(), (Shape{3}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{-5, 0, -9}));
}

TEST(ActivationGrad, Elu) {
  check_op({.name = "elu", .fn = [](const Inputs& in) { return elu(in[0]); }, .shapes = unary_shapes(),
            .kinks = {0.0}});
  check_op({.name = "elu alpha 0.5", .fn = [](const Inputs& in) { return elu(in[0], 0.5); }, .shapes = unary_shapes(),
            .kinks = {0.0}});
  check_op({.name = "elu alpha 2", .fn = [](const Inputs& in) { return elu(in[0], 2.0); }, .shapes = unary_shapes(),
            .kinks = {0.0}});
}

TEST(ActivationGrad, Gelu) {
  check_op({.name = "gelu none", .fn = [](const Inputs& in) { return gelu(in[0]); }, .shapes = unary_shapes(),
            .domain = {-4.0, 4.0}});
  check_op({.name = "gelu tanh", .fn = [](const Inputs& in) { return gelu(in[0], "tanh"); }, .shapes = unary_shapes(),
            .domain = {-4.0, 4.0}});
}

TEST(ActivationForward, Gelu) {
  // Values of x Phi(x) and of the tanh formula, computed in Python (math.erf, math.tanh).
  const Tensor x = tensor({-1.0, 0.0, 0.5, 2.0}, {4}, kFloat64);
  const std::vector<double> exact = gelu(x).to_vector<double>();
  const std::vector<double> approx = gelu(x, "tanh").to_vector<double>();
  const std::vector<double> want_exact = {-0.15865525393145707, 0.0, 0.34573123063700656, 1.9544997361036416};
  const std::vector<double> want_tanh = {-0.15880800939172324, 0.0, 0.34571400982514394, 1.954597694087775};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(exact[i], want_exact[i], 1e-12);
    EXPECT_NEAR(approx[i], want_tanh[i], 1e-12);
  }
}

TEST(ActivationGrad, SigmoidTanh) {
  check_op({.name = "sigmoid", .fn = [](const Inputs& in) { return sigmoid(in[0]); }, .shapes = unary_shapes(),
            .domain = {-6.0, 6.0}});
  check_op({.name = "tanh", .fn = [](const Inputs& in) { return tanh(in[0]); }, .shapes = unary_shapes()});
}

TEST(ActivationForward, SigmoidIsFiniteForLargeInputs) {
  for (DType dtype : {kFloat32, kFloat64}) {
    Tensor x = tensor({-100.0, -30.0, 0.0, 30.0, 100.0, -1000.0, 1000.0}, {7}, dtype);
    x.requires_grad_();
    const Tensor y = sigmoid(x);
    EXPECT_TRUE(all_finite(y));
    EXPECT_EQ(y.to_vector<double>()[2], 0.5);
    EXPECT_EQ(y.to_vector<double>()[4], 1.0);
    EXPECT_GE(y.to_vector<double>()[0], 0.0);
    EXPECT_LT(y.to_vector<double>()[0], 1e-40);
    sum(y).backward();
    EXPECT_TRUE(all_finite(x.grad()));
    EXPECT_TRUE(all_finite(tanh(x.detach())));
  }
}

TEST(ActivationGrad, Softplus) {
  check_op({.name = "softplus", .fn = [](const Inputs& in) { return softplus(in[0]); }, .shapes = unary_shapes(),
            .domain = {-5.0, 5.0}});
  // beta 2, threshold 1: both the log1p and the linear regions (the switch at x = 0.5 is a jump).
  check_op({.name = "softplus beta 2 threshold 1", .fn = [](const Inputs& in) { return softplus(in[0], 2.0, 1.0); },
            .shapes = unary_shapes(), .kinks = {0.5}});
  check_op({.name = "softplus linear region", .fn = [](const Inputs& in) { return softplus(in[0], 1.0, 20.0); },
            .shapes = unary_shapes(), .domain = {20.5, 30.0}});
}

TEST(ActivationForward, Softplus) {
  const Tensor y = softplus(tensor({0.0, 100.0, -100.0}, {3}, kFloat32));
  EXPECT_NEAR(y.to_vector<float>()[0], std::log(2.0f), 1e-6);
  EXPECT_EQ(y.to_vector<float>()[1], 100.0f);
  EXPECT_TRUE(all_finite(y));
}

TEST(ActivationGrad, SoftmaxLogSoftmaxEveryDim) {
  const std::vector<std::vector<Arg>> shapes3 = {{C(2, 3, 2)}, {Tr(2, 3, 2)}, {St(2, 2, 3)}, {Rev(3, 2, 2)},
                                                 {Pad(2, 1, 3)}, {C(1, 3, 1)}};
  for (std::int64_t dim : {0, 1, 2, -1, -3}) {
    check_op({.name = "softmax dim " + std::to_string(dim),
              .fn = [dim](const Inputs& in) { return softmax(in[0], dim); },
              .shapes = shapes3, .domain = {-3.0, 3.0}, .no_scalar = "below"});
    check_op({.name = "log_softmax dim " + std::to_string(dim),
              .fn = [dim](const Inputs& in) { return log_softmax(in[0], dim); },
              .shapes = shapes3, .domain = {-3.0, 3.0}, .no_scalar = "below"});
  }
  for (std::int64_t dim : {0, 1}) {
    const std::vector<std::vector<Arg>> shapes2 = {{C(2, 3)}, {Tr(3, 2)}, {St(2, 4)}, {C(1, 4)}, {C(4, 1)}};
    check_op({.name = "softmax 2-D dim " + std::to_string(dim),
              .fn = [dim](const Inputs& in) { return softmax(in[0], dim); }, .shapes = shapes2, .no_scalar = "below"});
    check_op({.name = "log_softmax 2-D dim " + std::to_string(dim),
              .fn = [dim](const Inputs& in) { return log_softmax(in[0], dim); }, .shapes = shapes2,
              .no_scalar = "below"});
  }
  check_op({.name = "softmax 0-d / 1-D", .fn = [](const Inputs& in) { return softmax(in[0], 0); },
            .shapes = {{C()}, {C(4)}, {St(3)}, {C(1)}}});
  check_op({.name = "log_softmax 0-d / 1-D", .fn = [](const Inputs& in) { return log_softmax(in[0], -1); },
            .shapes = {{C()}, {C(4)}, {St(3)}, {C(1)}}});
  // Large logits (exp(1000) overflows float64): the stable forms give the right gradients.
  check_op({.name = "log_softmax of x + 1000", .fn = [](const Inputs& in) { return log_softmax(add(in[0], 1000.0), 1); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {C(1, 1)}}, .no_scalar = "above"});
  check_op({.name = "softmax of x - 1000", .fn = [](const Inputs& in) { return softmax(sub(in[0], 1000.0), 1); },
            .shapes = {{C(2, 3)}, {St(2, 3)}}, .no_scalar = "above"});
}

// Activation backwards fed a permuted or sliced gradient by the ops after them.
TEST(ActivationGrad, NonContiguousUpstreamGradients) {
  check_op({.name = "softmax, log_softmax then transpose",
            .fn = [](const Inputs& in) { return add(softmax(in[0], 1), log_softmax(in[0], 0)).transpose(0, 1); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {St(3, 2)}}, .no_scalar = "2-D"});
  check_op({.name = "activations then cat",
            .fn = [](const Inputs& in) {
              return cat({relu(in[0]), leaky_relu(in[0], -0.3), prelu(in[0], in[1]), elu(in[0]), gelu(in[0]),
                          gelu(in[0], "tanh"), sigmoid(in[0]), tanh(in[0]), softplus(in[0])},
                         1);
            },
            .shapes = {{C(2, 3), C(3)}, {Tr(2, 3), C(1)}}, .kinks = {0.0}, .no_scalar = "2-D"});
}

TEST(ActivationForward, LargeSoftmaxMatchesALoop) {
  // Above the parallel grain: lanes split across threads, along both dims.
  Generator g(13);
  const Tensor x = randn({200, 180}, g, kFloat64);
  const std::vector<double> v = x.to_vector<double>();
  for (std::int64_t dim : {0, 1}) {
    const std::vector<double> s = softmax(x, dim).to_vector<double>();
    const std::int64_t lanes = dim == 0 ? 180 : 200, n = dim == 0 ? 200 : 180;
    for (std::int64_t l = 0; l < lanes; ++l) {
      const auto at = [&](std::int64_t j) { return dim == 0 ? j * 180 + l : l * 180 + j; };
      double total = 0;
      for (std::int64_t j = 0; j < n; ++j) total += std::exp(v[at(j)]);
      for (std::int64_t j = 0; j < n; ++j) ASSERT_NEAR(s[at(j)], std::exp(v[at(j)]) / total, 1e-15);
    }
  }
}

TEST(ActivationForward, SoftmaxRowsSumToOne) {
  Generator g(11);
  for (DType dtype : {kFloat32, kFloat64}) {
    const Tensor x = mul(randn({3, 4, 5}, g, dtype), 5.0);
    for (std::int64_t dim : {0, 1, 2}) {
      const Tensor s = softmax(x, dim);
      EXPECT_EQ(s.dtype(), dtype);
      for (double total : sum(s, {dim}).to_vector<double>()) EXPECT_NEAR(total, 1.0, 1e-5);
      // log_softmax = log(softmax).
      const std::vector<double> ls = log_softmax(x, dim).to_vector<double>();
      const std::vector<double> ref = log(s).to_vector<double>();
      for (std::size_t i = 0; i < ls.size(); ++i) EXPECT_NEAR(ls[i], ref[i], 1e-4);
    }
    // A non-contiguous input gives the same values as its contiguous copy.
    const Tensor t = x.transpose(0, 2);
    EXPECT_EQ(softmax(t, 1).to_vector<double>(), softmax(t.contiguous(), 1).to_vector<double>());
  }
}

TEST(ActivationForward, LogSoftmaxOfHugeLogitsIsFinite) {
  const Tensor x = tensor({1e4, -1e4, 0.0, -1e4, 1e4, 1e4}, {2, 3}, kFloat32);
  const Tensor y = log_softmax(x, 1);
  EXPECT_TRUE(all_finite(y));
  const std::vector<float> v = y.to_vector<float>();
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_EQ(v[1], -2e4f);
  EXPECT_EQ(v[2], -1e4f);
  EXPECT_NEAR(v[4], -std::log(2.0f), 1e-6);  // (x - m) - log(total), not x - (m + log(total))
  const Tensor s = softmax(x, 1);
  EXPECT_TRUE(all_finite(s));
  EXPECT_EQ(s.to_vector<float>()[0], 1.0f);
  // Gradient through huge logits stays finite too.
  Tensor leaf = x.detach();
  leaf.requires_grad_();
  sum(mul(log_softmax(leaf, 1), tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat32))).backward();
  EXPECT_TRUE(all_finite(leaf.grad()));
}

TEST(ActivationForward, ZeroSizeInputs) {
  const auto one = [](OpFn fn) { return fn; };
  check_empty("softmax dim 0", one([](const Inputs& in) { return softmax(in[0], 0); }), {{0, 3}}, {0, 3});
  check_empty("log_softmax dim 1", one([](const Inputs& in) { return log_softmax(in[0], 1); }), {{0, 3}}, {0, 3});
  check_empty("prelu", one([](const Inputs& in) { return prelu(in[0], in[1]); }), {{0, 3}, {3}}, {0, 3});
  check_empty("gelu", one([](const Inputs& in) { return gelu(in[0]); }), {{0, 3}}, {0, 3});
  check_empty("relu", one([](const Inputs& in) { return relu(in[0]); }), {{2, 0}}, {2, 0});
}

// --- bad inputs -----------------------------------------------------------------------------------

TEST(ActivationErrors, PreluWeightOfWrongSize) {
  const Tensor x = zeros({2, 3, 4}, kFloat64);
  EXPECT_THROW_WITH(prelu(x, zeros({2}, kFloat64)), ShapeError, "prelu", "[2]", "[2, 3, 4]");
  EXPECT_THROW_WITH(prelu(x, zeros({4}, kFloat64)), ShapeError, "prelu", "[4]");
  EXPECT_THROW_WITH(prelu(x, zeros({1, 3}, kFloat64)), ShapeError, "prelu", "[1, 3]");
  EXPECT_THROW_WITH(prelu(zeros({3}, kFloat64), zeros({3}, kFloat64)), ShapeError, "prelu", "[3]");
  EXPECT_THROW_WITH(prelu(x, zeros({3}, kFloat32)), DTypeError, "prelu", "float64", "float32");
}

TEST(ActivationErrors, GeluBadApproximate) {
  EXPECT_THROW_WITH(gelu(zeros({2}), "bad"), ValueError, "gelu", "bad", "tanh");
}

TEST(ActivationErrors, DimOutOfRange) {
  const Tensor x = zeros({2, 3});
  EXPECT_THROW_WITH(softmax(x, 2), IndexError, "softmax", "2");
  EXPECT_THROW_WITH(log_softmax(x, -3), IndexError, "log_softmax", "-3");
  EXPECT_THROW_WITH(softmax(scalar_tensor(1.0), 1), IndexError, "softmax", "1");
}

TEST(ActivationErrors, Int64Inputs) {
  const Tensor i = tensor_int64({1, -2}, {2});
  EXPECT_THROW_WITH(relu(i), DTypeError, "relu", "int64");
  EXPECT_THROW_WITH(leaky_relu(i), DTypeError, "leaky_relu", "int64");
  EXPECT_THROW_WITH(elu(i), DTypeError, "elu", "int64");
  EXPECT_THROW_WITH(gelu(i), DTypeError, "gelu", "int64");
  EXPECT_THROW_WITH(sigmoid(i), DTypeError, "sigmoid", "int64");
  EXPECT_THROW_WITH(tanh(i), DTypeError, "tanh", "int64");
  EXPECT_THROW_WITH(softplus(i), DTypeError, "softplus", "int64");
  EXPECT_THROW_WITH(softmax(i, 0), DTypeError, "softmax", "int64");
  EXPECT_THROW_WITH(log_softmax(i, 0), DTypeError, "log_softmax", "int64");
  EXPECT_THROW_WITH(prelu(i, tensor_int64({1}, {1})), DTypeError, "prelu", "int64");
}

TEST(ActivationErrors, SoftplusZeroBeta) {
  EXPECT_THROW_WITH(softplus(zeros({2}), 0.0), ValueError, "softplus", "beta");
}
