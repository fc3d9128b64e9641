// Gradient clipping, L1/L2 penalties and gradient accumulation.

#include <gtest/gtest.h>

#include <cmath>
#include <descent/descent.h>
#include <limits>

#include "descent/optim/clip.h"

using namespace descent;

namespace {
Tensor leaf_with_grad(const std::vector<double>& values, const std::vector<double>& grad) {
  Tensor p = tensor(values, {static_cast<std::int64_t>(values.size())}, kFloat64);
  p.requires_grad_();
  p.set_grad(tensor(grad, {static_cast<std::int64_t>(grad.size())}, kFloat64));
  return p;
}

template <typename F>
std::string message_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(ClipGradNorm, ScalesAllGradientsTogetherAndReturnsTheNorm) {
  Tensor a = leaf_with_grad({0, 0}, {3, 0});
  Tensor b = leaf_with_grad({0}, {4});
  const double norm = optim::clip_grad_norm_({a, b}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(a.grad().flat(0), 3 * coef);
  EXPECT_DOUBLE_EQ(a.grad().flat(1), 0.0);
  EXPECT_DOUBLE_EQ(b.grad().flat(0), 4 * coef);
}

TEST(ClipGradNorm, LeavesSmallGradientsAlone) {
  Tensor a = leaf_with_grad({0, 0}, {0.3, 0.4});
  EXPECT_NEAR(optim::clip_grad_norm_({a}, 1.0), 0.5, 1e-15);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.3, 0.4}));
}

TEST(ClipGradNorm, OtherNormsAndMissingGradients) {
  Tensor a = leaf_with_grad({0, 0, 0}, {-6, 2, 1});
  Tensor no_grad = tensor({1.0}, {1}, kFloat64);
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a, no_grad}, 100.0, std::numeric_limits<double>::infinity()), 6.0);
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a}, 100.0, 1.0), 9.0);
  const double coef = 3.0 / (9.0 + 1e-6);
  optim::clip_grad_norm_({a}, 3.0, 1.0);
  EXPECT_DOUBLE_EQ(a.grad().flat(0), -6 * coef);
  EXPECT_EQ(optim::clip_grad_norm_({no_grad}, 1.0), 0.0);
}

TEST(ClipGradNorm, NonContiguousGradientIsClippedInPlace) {
  Tensor p = zeros({2, 3}, kFloat64);
  p.requires_grad_();
  p.set_grad(tensor({1, 2, 3, 4, 5, 6}, {3, 2}, kFloat64).t());
  const Tensor g = p.grad();
  const double norm = optim::clip_grad_norm_({p}, 1.0);
  EXPECT_NEAR(norm, std::sqrt(91.0), 1e-12);
  EXPECT_TRUE(p.grad().is_same(g));  // the same tensor, changed in place
  EXPECT_NEAR(g.at({1, 2}), 6 / (std::sqrt(91.0) + 1e-6), 1e-15);
}

TEST(ClipGradNorm, NonFiniteNormIsAnErrorWhenAsked) {
  Tensor a = leaf_with_grad({0, 0}, {std::nan(""), 1});
  const std::string msg = message_of([&] { optim::clip_grad_norm_({a}, 1.0, 2.0, true); });
  EXPECT_NE(msg.find("clip_grad_norm_"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nan"), std::string::npos) << msg;
  EXPECT_THROW(optim::clip_grad_norm_({a}, -1.0), ValueError);
  EXPECT_THROW(optim::clip_grad_norm_({a}, 1.0, 0.0), ValueError);
}

TEST(ClipGradValue, ClampsEachElement) {
  Tensor a = leaf_with_grad({0, 0, 0, 0}, {-5, -0.5, 0.25, 7});
  optim::clip_grad_value_({a}, 1.0);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{-1, -0.5, 0.25, 1}));
  EXPECT_THROW(optim::clip_grad_value_({a}, -1.0), ValueError);
}

TEST(Penalty, ValuesAndGradients) {
  Tensor w = tensor({1, -2, 3}, {3}, kFloat64);
  w.requires_grad_();
  Tensor v = tensor({-0.5}, {1}, kFloat64);
  v.requires_grad_();
  EXPECT_DOUBLE_EQ(optim::l1_penalty({w, v}).item(), 6.5);
  EXPECT_DOUBLE_EQ(optim::l2_penalty({w, v}).item(), 14.25);
  for (bool l1 : {true, false}) {
    auto fn = [l1](const std::vector<Tensor>& in) { return l1 ? optim::l1_penalty(in) : optim::l2_penalty(in); };
    const GradcheckResult r = gradcheck(fn, {w, v});
    EXPECT_TRUE(r.ok) << r.message;
  }
  // (lambda / 2) * l2_penalty adds lambda * w to the gradient: SGD's weight_decay.
  Tensor loss = mul(optim::l2_penalty({w}), 0.05);
  loss.backward();
  EXPECT_NEAR(w.grad().flat(2), 0.1 * 3, 1e-15);
  EXPECT_THROW(optim::l1_penalty({}), ValueError);
  EXPECT_THROW(optim::l2_penalty({w, tensor({1.0}, {1})}), DTypeError);
}

TEST(GradientAccumulation, TwoHalfBatchesEqualTheFullBatch) {
  Generator gen(3);
  const Tensor x = randn({8, 3}, gen, kFloat64);
  const Tensor y = randn({8, 1}, gen, kFloat64);
  Tensor w = randn({3, 1}, gen, kFloat64);
  w.requires_grad_();
  mse_loss(matmul(x, w), y).backward();
  const std::vector<double> full = w.grad().to_vector<double>();
  w.set_grad(Tensor());
  // Each half's mean loss is scaled by 1/2; the gradients add up in .grad() between backwards.
  for (int half = 0; half < 2; ++half) {
    const Tensor xs = x.slice(0, 4 * half, 4 * half + 4);
    const Tensor ys = y.slice(0, 4 * half, 4 * half + 4);
    mul(mse_loss(matmul(xs, w), ys), 0.5).backward();
  }
  const std::vector<double> accumulated = w.grad().to_vector<double>();
  for (std::size_t i = 0; i < full.size(); ++i) EXPECT_NEAR(accumulated[i], full[i], 1e-14);
}
