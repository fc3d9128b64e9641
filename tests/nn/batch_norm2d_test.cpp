// BatchNorm2d: normalization per channel of [N, C, H, W] over N, H and W, running statistics
// after several steps against a hand computation, train/eval switching, gradients through the
// module, and the errors (which name the layer as it prints).

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "descent/descent.h"
#include "ops/op_check.h"

using namespace descent;
using namespace descent::nn;

namespace {

// Per-channel mean and variance (biased or unbiased) of x [N, C, H, W], computed element by element.
struct ChannelStats {
  std::vector<double> mean, biased, unbiased;
};

ChannelStats channel_stats(const Tensor& x) {
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const std::vector<double> v = x.contiguous().to_vector<double>();
  const double m = static_cast<double>(n * h * w);
  ChannelStats s;
  for (std::int64_t k = 0; k < c; ++k) {
    double sum = 0.0, sq = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < h * w; ++j) sum += v[(i * c + k) * h * w + j];
    }
    const double mean = sum / m;
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < h * w; ++j) sq += std::pow(v[(i * c + k) * h * w + j] - mean, 2);
    }
    s.mean.push_back(mean);
    s.biased.push_back(sq / m);
    s.unbiased.push_back(sq / (m - 1));
  }
  return s;
}

Tensor batch(const Shape& shape, std::uint64_t seed, double scale = 2.0, double shift = 1.0) {
  Generator g(seed);
  return add(mul(randn(shape, g, kFloat64), scale), shift);
}

}  // namespace

TEST(BatchNorm2dLayer, ParametersBuffersAndRepr) {
  BatchNorm2d bn({.num_features = 32});
  EXPECT_EQ(bn.name(), "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  EXPECT_EQ(
      BatchNorm2d(
          {.num_features = 3, .eps = 1e-3, .momentum = std::nullopt, .affine = false, .track_running_stats = false})
          .name(),
      "BatchNorm2d(3, eps=0.001, momentum=None, affine=false, track_running_stats=false)");
  EXPECT_EQ(bn.weight().to_vector<double>(), std::vector<double>(32, 1.0));
  EXPECT_EQ(bn.bias().to_vector<double>(), std::vector<double>(32, 0.0));
  EXPECT_EQ(bn.running_mean().to_vector<double>(), std::vector<double>(32, 0.0));
  EXPECT_EQ(bn.running_var().to_vector<double>(), std::vector<double>(32, 1.0));
  EXPECT_EQ(bn.num_batches_tracked().dtype(), kInt64);
  EXPECT_EQ(bn.state_dict().keys(),
            (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_EQ(bn.parameters().size(), 2u);
  BatchNorm2d plain({.num_features = 4, .affine = false, .track_running_stats = false});
  EXPECT_TRUE(plain.parameters().empty());
  EXPECT_TRUE(plain.buffers().empty());
}

TEST(BatchNorm2dLayer, NormalizesEachChannelOverBatchAndSpace) {
  BatchNorm2d bn({.num_features = 3, .dtype = kFloat64});
  init::uniform_(bn.weight(), 0.5, 1.5);
  init::normal_(bn.bias());
  const Tensor x = batch({4, 3, 5, 6}, 1);
  const Tensor y = bn(x);
  ASSERT_EQ(y.shape(), x.shape());
  const ChannelStats s = channel_stats(x);
  const std::vector<double> w = bn.weight().to_vector<double>(), b = bn.bias().to_vector<double>();
  for (std::int64_t n : {0, 3}) {
    for (std::int64_t c = 0; c < 3; ++c) {
      for (std::int64_t i : {0, 4}) {
        for (std::int64_t j : {0, 2, 5}) {
          const double want = (x.at({n, c, i, j}) - s.mean[c]) / std::sqrt(s.biased[c] + 1e-5) * w[c] + b[c];
          EXPECT_NEAR(y.at({n, c, i, j}), want, 1e-12);
        }
      }
    }
  }
}

TEST(BatchNorm2dLayer, RunningStatisticsAfterSeveralSteps) {
  for (std::optional<double> momentum :
       {std::optional<double>(0.1), std::optional<double>(0.3), std::optional<double>()}) {
    SCOPED_TRACE(momentum ? "momentum " + std::to_string(*momentum) : std::string("momentum None"));
    BatchNorm2d bn({.num_features = 3, .momentum = momentum, .dtype = kFloat64});
    std::vector<double> mean(3, 0.0), var(3, 1.0);
    for (int step = 1; step <= 4; ++step) {
      const Tensor x = batch({5, 3, 4, 3}, 10 + step, 1.0 + step, -2.0 * step);
      bn(x);
      // As PyTorch: momentum None is a cumulative average, factor 1 / num_batches_tracked.
      const double f = momentum ? *momentum : 1.0 / step;
      const ChannelStats s = channel_stats(x);
      for (std::int64_t c = 0; c < 3; ++c) {
        mean[c] = (1 - f) * mean[c] + f * s.mean[c];
        var[c] = (1 - f) * var[c] + f * s.unbiased[c];
      }
      EXPECT_EQ(bn.num_batches_tracked().item(), step);
    }
    for (std::int64_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(bn.running_mean().at({c}), mean[c], 1e-12);
      EXPECT_NEAR(bn.running_var().at({c}), var[c], 1e-12);
    }
  }
}

TEST(BatchNorm2dLayer, EvaluationUsesTheRunningStatistics) {
  BatchNorm2d bn({.num_features = 2, .dtype = kFloat64});
  init::uniform_(bn.weight(), 0.5, 1.5);
  init::normal_(bn.bias());
  bn(batch({4, 2, 3, 3}, 20));
  bn(batch({4, 2, 3, 3}, 21));
  const std::vector<double> rm = bn.running_mean().to_vector<double>(), rv = bn.running_var().to_vector<double>();
  const std::vector<double> w = bn.weight().to_vector<double>(), b = bn.bias().to_vector<double>();

  bn.eval();
  const Tensor x = batch({1, 2, 2, 2}, 22);  // one sample is fine in evaluation mode
  const Tensor y = bn(x);
  for (std::int64_t c = 0; c < 2; ++c) {
    for (std::int64_t i = 0; i < 2; ++i) {
      const double want = (x.at({0, c, i, 1}) - rm[c]) / std::sqrt(rv[c] + 1e-5) * w[c] + b[c];
      EXPECT_NEAR(y.at({0, c, i, 1}), want, 1e-12);
    }
  }
  EXPECT_EQ(bn.running_mean().to_vector<double>(), rm) << "evaluation updates nothing";
  EXPECT_EQ(bn.running_var().to_vector<double>(), rv);
  EXPECT_EQ(bn.num_batches_tracked().item(), 2.0);

  // Back to training: batch statistics and updates again.
  bn.train();
  const Tensor x3 = batch({3, 2, 2, 2}, 23);
  const Tensor y3 = bn(x3);
  EXPECT_EQ(bn.num_batches_tracked().item(), 3.0);
  const ChannelStats s = channel_stats(x3);
  EXPECT_NEAR(y3.at({1, 1, 0, 1}), (x3.at({1, 1, 0, 1}) - s.mean[1]) / std::sqrt(s.biased[1] + 1e-5) * w[1] + b[1],
              1e-12);
  EXPECT_NEAR(bn.running_mean().at({0}), 0.9 * rm[0] + 0.1 * s.mean[0], 1e-12);

  bn.reset_running_stats();
  EXPECT_EQ(bn.running_mean().to_vector<double>(), std::vector<double>(2, 0.0));
  EXPECT_EQ(bn.running_var().to_vector<double>(), std::vector<double>(2, 1.0));
  EXPECT_EQ(bn.num_batches_tracked().item(), 0.0);
}

TEST(BatchNorm2dLayer, WithoutRunningStatisticsEvaluationUsesTheBatch) {
  BatchNorm2d bn({.num_features = 2, .track_running_stats = false, .dtype = kFloat64});
  const Tensor x = batch({3, 2, 2, 2}, 30);
  const Tensor y_train = bn(x);
  bn.eval();
  const Tensor y_eval = bn(x);
  EXPECT_EQ(y_eval.to_vector<double>(), y_train.to_vector<double>());
  EXPECT_THROW_WITH(bn(zeros({1, 2, 1, 1}, kFloat64)), ValueError, "BatchNorm2d(2", "more than 1 value per channel");
}

TEST(BatchNorm2dLayer, ChannelsLastInputGivesTheSameResult) {
  BatchNorm2d a({.num_features = 3, .dtype = kFloat64}), b({.num_features = 3, .dtype = kFloat64});
  const Tensor nhwc = batch({2, 4, 5, 3}, 40);
  const Tensor x = nhwc.permute({0, 3, 1, 2});
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_EQ(a(x).to_vector<double>(), b(x.contiguous()).to_vector<double>());
  EXPECT_EQ(a.running_var().to_vector<double>(), b.running_var().to_vector<double>());
}

TEST(BatchNorm2dLayer, Gradients) {
  for (bool affine : {true, false}) {
    BatchNorm2d bn({.num_features = 3, .affine = affine, .dtype = kFloat64});
    if (affine) {
      init::uniform_(bn.weight(), 0.5, 1.5);
      init::normal_(bn.bias());
    }
    for (bool training : {true, false}) {
      SCOPED_TRACE(std::string(affine ? "affine" : "no affine") + (training ? ", training" : ", eval"));
      bn.train(training);
      const Tensor x = batch({2, 3, 3, 2}, 50, 1.5, 0.5);
      std::vector<Tensor> inputs{x};
      for (const Tensor& p : bn.parameters()) inputs.push_back(p);
      x.requires_grad_();
      const GradcheckResult r =
          gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0]); }, inputs, {.atol = 1e-6, .rtol = 1e-5});
      EXPECT_TRUE(r.ok) << r.message;
    }
  }
}

TEST(BatchNorm2dLayer, Float32OnAConvolutionSizedBatch) {
  BatchNorm2d bn32({.num_features = 32}), bn64({.num_features = 32, .dtype = kFloat64});
  Generator g(60);
  const Tensor x = add(randn({16, 32, 14, 14}, g, kFloat64), 3.0);
  const Tensor y32 = bn32(x.to(kFloat32)), y64 = bn64(x);
  EXPECT_EQ(y32.dtype(), kFloat32);
  const std::vector<double> a = y32.to_vector<double>(), b = y64.to_vector<double>();
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LT(worst, 1e-5);
  for (std::int64_t c : {0, 17, 31}) {
    EXPECT_NEAR(bn32.running_mean().at({c}), bn64.running_mean().at({c}), 1e-6);
    EXPECT_NEAR(bn32.running_var().at({c}), bn64.running_var().at({c}), 1e-6);
  }
}

TEST(BatchNorm2dLayer, ErrorsNameTheLayer) {
  BatchNorm2d bn({.num_features = 32});
  const char* layer = "BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)";
  EXPECT_THROW_WITH(bn(zeros({32, 5, 5})), ShapeError, layer, "expected an input of shape [N, 32, H, W]",
                    "got [32, 5, 5]");
  EXPECT_THROW_WITH(bn(zeros({4, 32})), ShapeError, layer, "[N, 32, H, W]", "[4, 32]");
  EXPECT_THROW_WITH(bn(zeros({2, 32, 2, 2, 2})), ShapeError, layer, "[2, 32, 2, 2, 2]");
  EXPECT_THROW_WITH(bn(zeros({2, 16, 5, 5})), ShapeError, layer, "[N, 32, H, W]", "[2, 16, 5, 5]");
  EXPECT_THROW_WITH(bn(zeros({1, 32, 1, 1})), ValueError, layer, "expected more than 1 value per channel when training",
                    "[1, 32, 1, 1]");
  EXPECT_NO_THROW(bn(zeros({1, 32, 1, 2}))) << "H * W = 2 values per channel";
  EXPECT_THROW_WITH(bn(zeros({2, 32, 3, 3}, kFloat64)), DTypeError, layer, "float64");
  EXPECT_THROW_WITH(bn(Tensor()), ValueError, layer, "undefined");
  EXPECT_THROW_WITH(BatchNorm2d({.num_features = 0}), ValueError, "BatchNorm2d", "num_features");
  EXPECT_THROW_WITH(BatchNorm2d({.num_features = 3, .eps = -1.0}), ValueError, "BatchNorm2d", "eps");
  // A failed call changes nothing.
  EXPECT_EQ(bn.num_batches_tracked().item(), 1.0);
}

TEST(BatchNorm2dLayer, TrainsWithAnOptimizer) {
  // A few SGD steps of BatchNorm2d's weight and bias towards a target: the loss goes down.
  manual_seed(3);
  BatchNorm2d bn({.num_features = 4, .dtype = kFloat64});
  optim::SGD sgd(bn.parameters(), {.lr = 0.1});
  const Tensor x = batch({8, 4, 3, 3}, 70);
  const Tensor target = batch({8, 4, 3, 3}, 71, 0.5, 0.3);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 20; ++step) {
    sgd.zero_grad();
    const Tensor diff = sub(bn(x), target);
    const Tensor loss = mean(mul(diff, diff));
    loss.backward();
    sgd.step();
    if (step == 0) first = loss.item();
    last = loss.item();
  }
  EXPECT_LT(last, first);
  EXPECT_EQ(bn.num_batches_tracked().item(), 20.0);
}
