// Gradient checks (every loss, every reduction, float64 gradcheck plus float32 vs float64), the
// large-logit stability of the log-space losses, semantic corner cases, and bad inputs with their
// messages, for descent/nn/loss.h. Values against PyTorch are in loss_reference_test.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

const Reduction kReductions[] = {Reduction::Mean, Reduction::Sum, Reduction::None};

std::string reduction_name(Reduction r) {
  switch (r) {
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
    case Reduction::None: return "none";
  }
  return "?";
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector<double>()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// Elementwise shape sets for (input, target): contiguous, 0-d, views of every layout, and a
// target that needs no gradient.
std::vector<std::vector<Arg>> pair_shapes() {
  return {{C(3, 4), C(3, 4)},         {C(), C()},
          {C(5), C(5).nograd()},      {Tr(3, 4), C(3, 4)},
          {C(2, 3, 2), Rev(2, 3, 2)}, {St(2, 3), Pad(2, 3)},
          {C(2, 3).nograd(), C(2, 3)}};
}

Tensor labels(const std::vector<std::int64_t>& v, const Shape& shape) { return tensor_int64(v, shape); }

// A constant weight in the dtype of x (check_op runs each function in float64 and float32).
Tensor like(const Tensor& weight, const Tensor& x) { return weight.dtype() == x.dtype() ? weight : weight.to(x.dtype()); }

}  // namespace

// --- gradients ------------------------------------------------------------------------------------

TEST(LossGrad, Regression) {
  for (Reduction r : kReductions) {
    const std::string tag = " " + reduction_name(r);
    check_op({.name = "mse_loss" + tag, .fn = [r](const Inputs& in) { return mse_loss(in[0], in[1], r); },
              .shapes = pair_shapes()});
    check_op({.name = "l1_loss" + tag, .fn = [r](const Inputs& in) { return l1_loss(in[0], in[1], r); },
              .shapes = pair_shapes()});
    for (double delta : {1.0, 0.3, 2.5}) {
      check_op({.name = "huber_loss" + tag + " delta " + std::to_string(delta),
                .fn = [r, delta](const Inputs& in) { return huber_loss(in[0], in[1], r, delta); },
                .shapes = pair_shapes(),
                .domain = {-3.0, 3.0}});
    }
    for (double beta : {1.0, 0.3, 2.5, 0.0}) {
      check_op({.name = "smooth_l1_loss" + tag + " beta " + std::to_string(beta),
                .fn = [r, beta](const Inputs& in) { return smooth_l1_loss(in[0], in[1], r, beta); },
                .shapes = pair_shapes(),
                .domain = {-3.0, 3.0}});
    }
  }
}

TEST(LossGrad, CrossEntropyAndNllWithClassIndices) {
  const Tensor t2 = labels({1, 4, 0, 3}, {4});
  const Tensor t2_ignored = labels({2, -100, 4, 2}, {4});
  const Tensor t3 = labels({0, 2, -100, 1, 1, 0}, {2, 3});
  const Tensor w5 = tensor({0.5, 2.0, 1.25, 0.75, 3.0}, {5}, kFloat64);
  const Tensor w3 = tensor({1.5, 0.25, 1.0}, {3}, kFloat64);
  const Tensor t1 = labels({2}, {});
  for (Reduction r : kReductions) {
    for (double s : {0.0, 0.2, 1.0}) {
      const std::string tag = " " + reduction_name(r) + " smoothing " + std::to_string(s);
      check_op({.name = "cross_entropy" + tag,
                .fn = [=](const Inputs& in) { return cross_entropy(in[0], t2, {.reduction = r, .label_smoothing = s}); },
                .shapes = {{C(4, 5)}, {Tr(4, 5)}},
                .no_scalar = "logits need a class dimension"});
      check_op({.name = "cross_entropy weight ignore" + tag,
                .fn = [=](const Inputs& in) {
                  return cross_entropy(in[0], t2_ignored, {.reduction = r, .weight = like(w5, in[0]), .label_smoothing = s});
                },
                .shapes = {{C(4, 5)}, {Pad(4, 5)}},
                .no_scalar = "logits need a class dimension"});
      check_op({.name = "cross_entropy 3-d weight ignore" + tag,
                .fn = [=](const Inputs& in) {
                  return cross_entropy(in[0], t3, {.reduction = r, .weight = like(w3, in[0]), .label_smoothing = s});
                },
                .shapes = {{C(2, 3, 3)}, {Rev(2, 3, 3)}},
                .no_scalar = "logits need a class dimension"});
      check_op({.name = "cross_entropy unbatched" + tag,
                .fn = [=](const Inputs& in) { return cross_entropy(in[0], t1, {.reduction = r, .label_smoothing = s}); },
                .shapes = {{C(5)}, {St(5)}},
                .no_scalar = "logits need a class dimension"});
    }
    const std::string tag = " " + reduction_name(r);
    check_op({.name = "nll_loss" + tag,
              .fn = [=](const Inputs& in) { return nll_loss(in[0], t2, {.reduction = r}); },
              .shapes = {{C(4, 5)}, {Tr(4, 5)}},
              .domain = {-3.0, -0.1},
              .no_scalar = "log-probabilities need a class dimension"});
    check_op({.name = "nll_loss weight ignore" + tag,
              .fn = [=](const Inputs& in) { return nll_loss(in[0], t2_ignored, {.reduction = r, .weight = like(w5, in[0])}); },
              .shapes = {{C(4, 5)}, {St(4, 5)}},
              .domain = {-3.0, -0.1},
              .no_scalar = "log-probabilities need a class dimension"});
    check_op({.name = "nll_loss 3-d" + tag,
              .fn = [=](const Inputs& in) {
                return nll_loss(in[0], t3, {.reduction = r, .weight = like(w3, in[0]), .ignore_index = -100});
              },
              .shapes = {{C(2, 3, 3)}, {Tr(2, 3, 3)}},
              .domain = {-3.0, -0.1},
              .no_scalar = "log-probabilities need a class dimension"});
  }
}

TEST(LossGrad, CrossEntropyWithProbabilities) {
  const Tensor w5 = tensor({0.5, 2.0, 1.25, 0.75, 3.0}, {5}, kFloat64);
  for (Reduction r : kReductions) {
    for (double s : {0.0, 0.3}) {
      const std::string tag = " " + reduction_name(r) + " smoothing " + std::to_string(s);
      // The target (drawn in [0, 1], not normalized: the formula does not need it) gets a gradient too.
      check_op({.name = "cross_entropy probabilities" + tag,
                .fn = [=](const Inputs& in) { return cross_entropy(in[0], in[1], {.reduction = r, .label_smoothing = s}); },
                .shapes = {{C(4, 5), C(4, 5).in(0.0, 1.0)},
                           {Tr(4, 5), C(4, 5).in(0.0, 1.0).nograd()},
                           {C(2, 3, 2), Rev(2, 3, 2).in(0.0, 1.0)},
                           {C(5), C(5).in(0.0, 1.0)}},
                .no_scalar = "logits need a class dimension"});
      check_op({.name = "cross_entropy probabilities weight" + tag,
                .fn = [=](const Inputs& in) {
                  return cross_entropy(in[0], in[1], {.reduction = r, .weight = like(w5, in[0]), .label_smoothing = s});
                },
                .shapes = {{C(4, 5), C(4, 5).in(0.0, 1.0)}, {St(3, 5), Pad(3, 5).in(0.0, 1.0)}},
                .no_scalar = "logits need a class dimension"});
    }
  }
}

TEST(LossGrad, BinaryCrossEntropy) {
  const Tensor w = tensor({0.5, 2.0, 1.25, 0.75}, {4}, kFloat64);
  for (Reduction r : kReductions) {
    const std::string tag = " " + reduction_name(r);
    const std::vector<std::vector<Arg>> shapes = {{C(3, 4), C(3, 4)},
                                                  {C(), C()},
                                                  {Tr(3, 4), C(3, 4).nograd()},
                                                  {St(2, 4), Rev(2, 4)},
                                                  {C(2, 4).nograd(), C(2, 4)}};
    check_op({.name = "binary_cross_entropy" + tag,
              .fn = [=](const Inputs& in) { return binary_cross_entropy(in[0], in[1], {.reduction = r}); },
              .shapes = shapes,
              .domain = {0.05, 0.95}});
    check_op({.name = "binary_cross_entropy weight" + tag,
              .fn = [=](const Inputs& in) { return binary_cross_entropy(in[0], in[1], {.reduction = r, .weight = like(w, in[0])}); },
              .shapes = {{C(3, 4), C(3, 4)}, {Tr(3, 4), St(3, 4)}},
              .domain = {0.05, 0.95},
              .no_scalar = "the [4] weight needs a last dimension of 4"});
  }
}

TEST(LossGrad, BinaryCrossEntropyWithLogits) {
  const Tensor w = tensor({0.5, 2.0, 1.25, 0.75}, {4}, kFloat64);
  const Tensor pw = tensor({3.0, 0.5, 1.0, 2.5}, {4}, kFloat64);
  const Tensor pw0 = scalar_tensor(2.0, kFloat64);  // 0-d: broadcasts to any input
  for (Reduction r : kReductions) {
    const std::string tag = " " + reduction_name(r);
    const auto target = [](Arg a) { return a.in(0.0, 1.0); };
    check_op({.name = "binary_cross_entropy_with_logits" + tag,
              .fn = [=](const Inputs& in) { return binary_cross_entropy_with_logits(in[0], in[1], {.reduction = r}); },
              .shapes = {{C(3, 4), target(C(3, 4))},
                         {C(), target(C())},
                         {Tr(3, 4), target(C(3, 4).nograd())},
                         {C(2, 4).nograd(), target(Rev(2, 4))}},
              .domain = {-6.0, 6.0}});
    check_op({.name = "binary_cross_entropy_with_logits pos_weight weight" + tag,
              .fn = [=](const Inputs& in) {
                return binary_cross_entropy_with_logits(in[0], in[1], {.reduction = r, .weight = like(w, in[0]), .pos_weight = like(pw, in[0])});
              },
              .shapes = {{C(3, 4), target(C(3, 4))}, {St(2, 4), target(Pad(2, 4))}},
              .domain = {-6.0, 6.0},
              .no_scalar = "the [4] weights need a last dimension of 4"});
    check_op({.name = "binary_cross_entropy_with_logits 0-d pos_weight" + tag,
              .fn = [=](const Inputs& in) {
                return binary_cross_entropy_with_logits(in[0], in[1], {.reduction = r, .pos_weight = like(pw0, in[0])});
              },
              .shapes = {{C(3, 4), target(C(3, 4))}, {C(), target(C())}, {Tr(2, 3), target(C(2, 3))}},
              .domain = {-6.0, 6.0}});
  }
}

TEST(LossGrad, HingeEmbedding) {
  // The target is the sign of the second (no-grad) input: +1 or -1.
  for (Reduction r : kReductions) {
    for (double margin : {1.0, 0.5, 2.0}) {
      check_op({.name = "hinge_embedding_loss " + reduction_name(r) + " margin " + std::to_string(margin),
                .fn = [=](const Inputs& in) {
                  const Tensor sign = sub(mul(gt(in[1], 0.0), 2.0), 1.0);
                  return hinge_embedding_loss(in[0], sign, {.reduction = r, .margin = margin});
                },
                .shapes = {{C(3, 4), C(3, 4).nograd()},
                           {C(), C().nograd()},
                           {Tr(3, 4), C(3, 4).nograd()},
                           {St(5), C(5).nograd()}},
                .domain = {-3.0, 3.0},
                .kinks = {margin}});
    }
  }
}

TEST(LossGrad, MultiMargin) {
  const Tensor t = labels({1, 4, 0, 3}, {4});
  const Tensor t1 = labels({2}, {});
  const Tensor w5 = tensor({0.5, 2.0, 1.25, 0.75, 3.0}, {5}, kFloat64);
  for (Reduction r : kReductions) {
    for (int p : {1, 2}) {
      for (double margin : {1.0, 0.5}) {
        const std::string tag = " " + reduction_name(r) + " p " + std::to_string(p) + " margin " + std::to_string(margin);
        check_op({.name = "multi_margin_loss" + tag,
                  .fn = [=](const Inputs& in) { return multi_margin_loss(in[0], t, {.reduction = r, .p = p, .margin = margin}); },
                  .shapes = {{C(4, 5)}, {Tr(4, 5)}},
                  .no_scalar = "scores need a class dimension"});
        check_op({.name = "multi_margin_loss weight" + tag,
                  .fn = [=](const Inputs& in) {
                    return multi_margin_loss(in[0], t, {.reduction = r, .p = p, .margin = margin, .weight = like(w5, in[0])});
                  },
                  .shapes = {{C(4, 5)}, {Pad(4, 5)}},
                  .no_scalar = "scores need a class dimension"});
        check_op({.name = "multi_margin_loss unbatched" + tag,
                  .fn = [=](const Inputs& in) { return multi_margin_loss(in[0], t1, {.reduction = r, .p = p, .margin = margin}); },
                  .shapes = {{C(5)}, {St(5)}},
                  .no_scalar = "scores need a class dimension"});
      }
    }
  }
}

TEST(LossGrad, KLDiv) {
  for (KLDivReduction r : {KLDivReduction::Mean, KLDivReduction::Sum, KLDivReduction::None, KLDivReduction::BatchMean}) {
    const std::string tag = " reduction " + std::to_string(static_cast<int>(r));
    check_op({.name = "kl_div" + tag,
              .fn = [=](const Inputs& in) { return kl_div(in[0], in[1], {.reduction = r}); },
              .shapes = {{C(3, 4), C(3, 4).in(0.05, 1.0)},
                         {C(), C().in(0.05, 1.0)},
                         {Tr(3, 4), C(3, 4).in(0.05, 1.0).nograd()},
                         {C(2, 3, 2).nograd(), Rev(2, 3, 2).in(0.05, 1.0)}},
              .domain = {-3.0, 0.0}});
    check_op({.name = "kl_div log_target" + tag,
              .fn = [=](const Inputs& in) { return kl_div(in[0], in[1], {.reduction = r, .log_target = true}); },
              .shapes = {{C(3, 4), C(3, 4)}, {C(), C()}, {St(2, 3), Pad(2, 3)}},
              .domain = {-3.0, 0.0}});
  }
}

// --- stability ------------------------------------------------------------------------------------

TEST(LossStability, BinaryCrossEntropyWithLogitsLargeLogits) {
  const std::vector<double> x = {-1e4, -1e3, -100.0, 0.0, 100.0, 1e3, 1e4, 1e4, -1e4};
  const std::vector<double> y = {0.0, 1.0, 0.5, 0.25, 0.5, 0.0, 1.0, 0.0, 1.0};
  for (DType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(std::string(dtype_name(dtype)));
    for (bool with_pos_weight : {false, true}) {
      const Tensor logits = tensor(x, {9}, dtype);
      logits.requires_grad_();
      const Tensor target = tensor(y, {9}, dtype);
      target.requires_grad_();
      BinaryCrossEntropyWithLogitsOptions o{.reduction = Reduction::None};
      if (with_pos_weight) o.pos_weight = tensor({2.5}, {1}, dtype);
      const double pw = with_pos_weight ? 2.5 : 1.0;
      const Tensor loss = binary_cross_entropy_with_logits(logits, target, o);
      ASSERT_TRUE(all_finite(loss)) << loss;
      sum(loss).backward();
      ASSERT_TRUE(all_finite(logits.grad())) << logits.grad();
      ASSERT_TRUE(all_finite(target.grad())) << target.grad();
      for (std::size_t i = 0; i < x.size(); ++i) {
        // loss = (1 - y) x + (1 + (pw - 1) y) softplus(-x); dloss/dx = (pw y + 1 - y) sigmoid(x) - pw y
        const double sp = std::max(-x[i], 0.0) + std::log1p(std::exp(-std::abs(x[i])));
        const double sig = 1.0 / (1.0 + std::exp(-x[i]));
        const double want = (1 - y[i]) * x[i] + (1 + (pw - 1) * y[i]) * sp;
        const double want_grad = (pw * y[i] + 1 - y[i]) * sig - pw * y[i];
        EXPECT_NEAR(loss.flat(i), want, 1e-6 * std::abs(want) + 1e-6) << "x = " << x[i] << ", y = " << y[i];
        EXPECT_NEAR(logits.grad().flat(i), want_grad, 1e-6) << "x = " << x[i] << ", y = " << y[i];
      }
    }
    // The mean of the extremes, and its gradient at x = 0 (sigmoid(0) - y, not the relu/abs kink).
    const Tensor z = tensor({0.0, 1e4, -1e4}, {3}, dtype);
    z.requires_grad_();
    const Tensor m = binary_cross_entropy_with_logits(z, tensor({0.0, 1.0, 0.0}, {3}, dtype));
    EXPECT_NEAR(m.item(), std::log(2.0) / 3.0, 1e-6);
    m.backward();
    EXPECT_NEAR(z.grad().flat(0), 0.5 / 3.0, 1e-7);
    EXPECT_NEAR(z.grad().flat(1), 0.0, 1e-7);
    EXPECT_NEAR(z.grad().flat(2), 0.0, 1e-7);
  }
}

TEST(LossStability, CrossEntropyAndNllLargeLogits) {
  for (DType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(std::string(dtype_name(dtype)));
    const Tensor logits = tensor({1e4, 0.0, -1e4, -1e4, 1e4, 5e3, 2e4, -2e4, 2e4}, {3, 3}, dtype);
    const Tensor t = labels({0, 0, 1}, {3});
    for (double s : {0.0, 0.1}) {
      const Tensor x = logits.detach().clone();
      x.requires_grad_();
      const Tensor loss = cross_entropy(x, t, {.reduction = Reduction::None, .label_smoothing = s});
      ASSERT_TRUE(all_finite(loss)) << loss;
      if (s == 0.0) {
        // -log_softmax at the target: 0, 2e4 (class 0 is 2e4 below the max) and 4e4 + log 2 (two
        // tied maxima 4e4 above the target).
        EXPECT_NEAR(loss.flat(0), 0.0, 1e-6);
        EXPECT_NEAR(loss.flat(1), 2e4, 1e-2);
        EXPECT_NEAR(loss.flat(2), 4e4 + std::log(2.0), 1e-2);
      }
      sum(loss).backward();
      ASSERT_TRUE(all_finite(x.grad())) << x.grad();
    }
    // nll_loss of log_softmax: the same finite values.
    const Tensor x = logits.detach().clone();
    x.requires_grad_();
    const Tensor nll = nll_loss(log_softmax(x, 1), t, {.reduction = Reduction::Sum});
    EXPECT_NEAR(nll.item(), 6e4 + std::log(2.0), 1e-2);
    nll.backward();
    ASSERT_TRUE(all_finite(x.grad())) << x.grad();
    // softmax - one_hot: row 0 is (0, 0, 0) to rounding, row 1 (-1, 1, 0) (the max is class 1).
    EXPECT_NEAR(x.grad().at({1, 0}), -1.0, 1e-6);
    EXPECT_NEAR(x.grad().at({1, 1}), 1.0, 1e-6);
    // Probability targets too.
    const Tensor xp = logits.detach().clone();
    xp.requires_grad_();
    const Tensor probs = tensor({0.5, 0.5, 0.0, 0.2, 0.3, 0.5, 1.0, 0.0, 0.0}, {3, 3}, dtype);
    const Tensor lp = cross_entropy(xp, probs, {.label_smoothing = 0.2});
    ASSERT_TRUE(std::isfinite(lp.item())) << lp;
    lp.backward();
    ASSERT_TRUE(all_finite(xp.grad())) << xp.grad();
  }
}

TEST(LossStability, BinaryCrossEntropyAtZeroAndOne) {
  for (DType dtype : {kFloat32, kFloat64}) {
    const Tensor p = tensor({0.0, 1.0, 0.0, 1.0}, {4}, dtype);
    p.requires_grad_();
    const Tensor y = tensor({1.0, 0.0, 0.0, 1.0}, {4}, dtype);
    y.requires_grad_();
    const Tensor loss = binary_cross_entropy(p, y, {.reduction = Reduction::None});
    EXPECT_EQ(loss.to_vector<double>(), (std::vector<double>{100.0, 100.0, 0.0, 0.0}));  // logs clamped at -100
    sum(loss).backward();
    ASSERT_TRUE(all_finite(p.grad())) << p.grad();
    ASSERT_TRUE(all_finite(y.grad())) << y.grad();
    EXPECT_EQ(p.grad().flat(2), 0.0);
    EXPECT_LT(p.grad().flat(0), -1e11);  // -1 / max(p (1 - p), 1e-12)
  }
}

// --- semantics ------------------------------------------------------------------------------------

TEST(LossSemantics, DefaultsAreMeanAndPyTorchOptions) {
  Generator g(3);
  const Tensor x = randn({4, 5}, g, kFloat64);
  const Tensor y = randn({4, 5}, g, kFloat64);
  const Tensor t = labels({1, 4, 0, 3}, {4});
  EXPECT_DOUBLE_EQ(mse_loss(x, y).item(), mean(mul(sub(x, y), sub(x, y))).item());
  EXPECT_DOUBLE_EQ(mse_loss(x, y, Reduction::Sum).item(), sum(mul(sub(x, y), sub(x, y))).item());
  EXPECT_DOUBLE_EQ(huber_loss(x, y).item(), smooth_l1_loss(x, y).item());  // delta = beta = 1
  EXPECT_NEAR(huber_loss(x, y, Reduction::Mean, 0.5).item(), 0.5 * smooth_l1_loss(x, y, Reduction::Mean, 0.5).item(), 1e-15);
  EXPECT_DOUBLE_EQ(smooth_l1_loss(x, y, Reduction::Mean, 0.0).item(), l1_loss(x, y).item());
  EXPECT_DOUBLE_EQ(cross_entropy(x, t).item(), nll_loss(log_softmax(x, 1), t).item());
  EXPECT_EQ(mse_loss(x, y, Reduction::None).shape(), (Shape{4, 5}));
  EXPECT_EQ(cross_entropy(x, t, {.reduction = Reduction::None}).shape(), (Shape{4}));
  EXPECT_EQ(mse_loss(x, y).dim(), 0);
}

TEST(LossSemantics, WeightedMeanDividesByKeptWeights) {
  const Tensor lp = tensor({-1.0, -2.0, -3.0, -0.5, -1.5, -2.5}, {2, 3}, kFloat64);
  const Tensor w = tensor({1.0, 2.0, 4.0}, {3}, kFloat64);
  // targets 2 and 1: (4 * 3 + 2 * 1.5) / (4 + 2)
  EXPECT_DOUBLE_EQ(nll_loss(lp, labels({2, 1}, {2}), {.weight = w}).item(), 15.0 / 6.0);
  // the second is ignored: 12 / 4
  EXPECT_DOUBLE_EQ(nll_loss(lp, labels({2, -100}, {2}), {.weight = w}).item(), 3.0);
  EXPECT_DOUBLE_EQ(nll_loss(lp, labels({2, 0}, {2}), {.weight = w, .ignore_index = 0}).item(), 3.0);
  // All ignored: the mean is 0 / 0 = NaN and the sum 0, as in PyTorch.
  EXPECT_TRUE(std::isnan(nll_loss(lp, labels({-100, -100}, {2})).item()));
  EXPECT_EQ(nll_loss(lp, labels({-100, -100}, {2}), {.reduction = Reduction::Sum}).item(), 0.0);
  EXPECT_EQ(nll_loss(lp, labels({-100, 1}, {2}), {.reduction = Reduction::None}).to_vector<double>(),
            (std::vector<double>{0.0, 1.5}));
  // An ignored row may hold -inf (log 0) at any class without poisoning the loss.
  const Tensor with_inf = tensor({-std::numeric_limits<double>::infinity(), -1.0, -1.0, -1.0, -1.0, -1.0}, {2, 3}, kFloat64);
  EXPECT_DOUBLE_EQ(nll_loss(with_inf, labels({-100, 2}, {2})).item(), 1.0);
}

TEST(LossSemantics, HingeAndKLDivCorners) {
  const Tensor x = tensor({0.25, 0.25, 0.25, 3.0}, {4}, kFloat64);
  const Tensor t = tensor({1.0, -1.0, 0.0, -1.0}, {4}, kFloat64);
  // x for +1, max(0, 1 - x) for -1, both for any other value.
  EXPECT_EQ(hinge_embedding_loss(x, t, {.reduction = Reduction::None}).to_vector<double>(),
            (std::vector<double>{0.25, 0.75, 1.0, 0.0}));
  // kl_div: a zero target adds 0 and its gradient is finite (-input).
  const Tensor in = tensor({-1.0, -2.0}, {2}, kFloat64);
  const Tensor tgt = tensor({0.0, 0.5}, {2}, kFloat64);
  tgt.requires_grad_();
  const Tensor kl = kl_div(in, tgt, {.reduction = KLDivReduction::Sum});
  EXPECT_NEAR(kl.item(), 0.5 * (std::log(0.5) + 2.0), 1e-15);
  kl.backward();
  EXPECT_EQ(tgt.grad().flat(0), 1.0);
  EXPECT_TRUE(std::isfinite(tgt.grad().flat(1)));
  // batchmean divides by the batch size, mean by the element count.
  const Tensor a = full({2, 3}, -1.0, kFloat64), b = full({2, 3}, 0.5, kFloat64);
  const double total = kl_div(a, b, {.reduction = KLDivReduction::Sum}).item();
  EXPECT_DOUBLE_EQ(kl_div(a, b, {.reduction = KLDivReduction::BatchMean}).item(), total / 2.0);
  EXPECT_DOUBLE_EQ(kl_div(a, b).item(), total / 6.0);
}

// --- bad inputs -----------------------------------------------------------------------------------

TEST(LossErrors, ShapesAndDtypesOfElementwiseLosses) {
  const Tensor a = zeros({2, 3}), b = zeros({3}), i = tensor_int64({0, 1, 2, 0, 1, 2}, {2, 3});
  EXPECT_THROW_WITH(mse_loss(a, b), ShapeError, "mse_loss", "[2, 3]", "[3]");
  EXPECT_THROW_WITH(l1_loss(a, i), DTypeError, "l1_loss", "target", "int64", "float32");
  EXPECT_THROW_WITH(huber_loss(i, a), DTypeError, "huber_loss", "input", "int64");
  EXPECT_THROW_WITH(smooth_l1_loss(a, zeros({2, 3}, kFloat64)), DTypeError, "smooth_l1_loss", "float32", "float64");
  EXPECT_THROW_WITH(kl_div(a, zeros({3, 2})), ShapeError, "kl_div", "[2, 3]", "[3, 2]");
  EXPECT_THROW_WITH(hinge_embedding_loss(a, i), DTypeError, "hinge_embedding_loss", "int64");
  EXPECT_THROW_WITH(binary_cross_entropy_with_logits(a, zeros({2, 1})), ShapeError, "binary_cross_entropy_with_logits",
                    "[2, 3]", "[2, 1]");
  EXPECT_THROW_WITH(binary_cross_entropy(a, i), DTypeError, "binary_cross_entropy", "int64");
  EXPECT_THROW_WITH(mse_loss(Tensor(), a), ValueError, "mse_loss", "input", "undefined");
}

TEST(LossErrors, DeltaAndBeta) {
  const Tensor a = zeros({2});
  EXPECT_THROW_WITH(huber_loss(a, a, Reduction::Mean, -1.0), ValueError, "huber_loss", "delta", "-1");
  EXPECT_THROW_WITH(huber_loss(a, a, Reduction::Mean, 0.0), ValueError, "huber_loss", "delta", "0");
  EXPECT_THROW_WITH(smooth_l1_loss(a, a, Reduction::Mean, -0.5), ValueError, "smooth_l1_loss", "beta", "-0.5");
}

TEST(LossErrors, ClassIndexTargets) {
  const Tensor x = zeros({4, 3});
  EXPECT_THROW_WITH(cross_entropy(x, zeros({4})), DTypeError, "cross_entropy", "int64", "float32", "[4, 3]", "[4]");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, {4, 3})), DTypeError,
                    "cross_entropy", "class probabilities", "int64", "float32");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, 5, 1, 2}, {4})), IndexError, "cross_entropy", "class index 5",
                    "C = 3");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, -1, 1, 2}, {4})), IndexError, "cross_entropy", "class index -1",
                    "C = 3");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, 1, 2}, {3})), ShapeError, "cross_entropy", "[3]", "[4, 3]", "[4]");
  EXPECT_THROW_WITH(cross_entropy(zeros({2, 3, 5}), tensor_int64({0, 1}, {2})), ShapeError, "cross_entropy", "[2, 5]");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, 1, 2, 0}, {4}), {.weight = ones({4})}), ShapeError,
                    "cross_entropy", "weight", "[3]", "[4]");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, 1, 2, 0}, {4}), {.weight = ones({3}, kFloat64)}), DTypeError,
                    "cross_entropy", "weight", "float64", "float32");
  EXPECT_THROW_WITH(cross_entropy(x, tensor_int64({0, 1, 2, 0}, {4}), {.label_smoothing = 1.5}), ValueError,
                    "cross_entropy", "label_smoothing", "1.5");
  EXPECT_THROW_WITH(cross_entropy(x, zeros({4, 3}), {.ignore_index = 1}), ValueError, "cross_entropy", "ignore_index");
  EXPECT_THROW_WITH(cross_entropy(zeros({4, 3}, kFloat64), zeros({4, 3})), DTypeError, "cross_entropy", "float64",
                    "float32");
  EXPECT_THROW_WITH(cross_entropy(zeros({3}), tensor_int64({1}, {1})), ShapeError, "cross_entropy", "[3]", "[1]");
  EXPECT_THROW_WITH(cross_entropy(zeros({}), tensor_int64({1}, {})), ShapeError, "cross_entropy", "[]");
  EXPECT_THROW_WITH(nll_loss(x, tensor_int64({3, 0, 0, 0}, {4})), IndexError, "nll_loss", "class index 3", "C = 3");
  EXPECT_THROW_WITH(nll_loss(x, zeros({4})), DTypeError, "nll_loss", "int64", "float32");
  EXPECT_THROW_WITH(nll_loss(x, tensor_int64({0, 1, 2, 0}, {4}), {.weight = ones({2})}), ShapeError, "nll_loss",
                    "weight", "[2]");
  EXPECT_THROW_WITH(nll_loss(tensor_int64({0, 1}, {2}), tensor_int64({0}, {})), DTypeError, "nll_loss", "int64");
}

TEST(LossErrors, BinaryAndMarginLosses) {
  const Tensor p = tensor({0.5, 1.5, 0.25}, {3});
  EXPECT_THROW_WITH(binary_cross_entropy(p, zeros({3})), ValueError, "binary_cross_entropy", "[0, 1]", "1.5");
  const Tensor q = full({3, 4}, 0.5);
  EXPECT_THROW_WITH(binary_cross_entropy(q, q, {.weight = ones({5})}), ShapeError, "binary_cross_entropy", "weight",
                    "[5]", "[3, 4]");
  EXPECT_THROW_WITH(binary_cross_entropy_with_logits(q, q, {.pos_weight = ones({3})}), ShapeError,
                    "binary_cross_entropy_with_logits", "pos_weight", "[3]", "[3, 4]");
  EXPECT_THROW_WITH(binary_cross_entropy_with_logits(q, q, {.weight = ones({2, 3, 4})}), ShapeError,
                    "binary_cross_entropy_with_logits", "weight", "[2, 3, 4]");
  const Tensor s = zeros({2, 5});
  EXPECT_THROW_WITH(multi_margin_loss(s, tensor_int64({0, 7}, {2})), IndexError, "multi_margin_loss", "class index 7",
                    "C = 5");
  EXPECT_THROW_WITH(multi_margin_loss(s, zeros({2})), DTypeError, "multi_margin_loss", "int64", "float32");
  EXPECT_THROW_WITH(multi_margin_loss(s, tensor_int64({0, 1, 2}, {3})), ShapeError, "multi_margin_loss", "[3]", "[2, 5]");
  EXPECT_THROW_WITH(multi_margin_loss(s, tensor_int64({0, 1}, {2}), {.p = 3}), ValueError, "multi_margin_loss", "p",
                    "3");
  EXPECT_THROW_WITH(multi_margin_loss(s, tensor_int64({0, 1}, {2}), {.weight = ones({4})}), ShapeError,
                    "multi_margin_loss", "weight", "[4]", "[5]");
  EXPECT_THROW_WITH(multi_margin_loss(zeros({2, 2, 2}), tensor_int64({0, 1}, {2})), ShapeError, "multi_margin_loss",
                    "[2, 2, 2]");
}
