// Initializers (descent/nn/init.h): gains and fans as PyTorch computes them, and the moments and
// bounds of large samples. Tensors are non-square ([500, 2000]: fan_in 2000, fan_out 500) so that
// swapping fan_in and fan_out, or using one where the formula wants their sum, changes the
// expected spread by a factor of 1.6 or more, far outside the tolerances (about 1% for a million
// draws, where the sampling error of a variance is about 0.1%).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "descent/descent.h"
#include "ops/op_check.h"

using namespace descent;
using namespace descent::nn;

namespace {

struct Moments {
  double mean = 0, variance = 0, min = 0, max = 0;
};

Moments moments(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.variance += (x - m.mean) * (x - m.mean);
  m.variance /= static_cast<double>(v.size() - 1);
  m.min = *std::min_element(v.begin(), v.end());
  m.max = *std::max_element(v.begin(), v.end());
  return m;
}

// A uniform sample on [-bound, bound]: mean 0, variance bound^2 / 3, extremes at the bounds.
void expect_uniform(const Tensor& t, double bound, const char* what) {
  const Moments m = moments(t);
  const double n = static_cast<double>(t.numel());
  EXPECT_NEAR(m.mean, 0.0, 5 * bound / std::sqrt(3 * n)) << what;
  EXPECT_NEAR(m.variance / (bound * bound / 3), 1.0, 0.01) << what;
  EXPECT_GE(m.min, -bound) << what;
  EXPECT_LE(m.max, bound) << what;
  EXPECT_LT(m.min, -0.999 * bound) << what;
  EXPECT_GT(m.max, 0.999 * bound) << what;
}

// A normal sample N(0, std^2).
void expect_normal(const Tensor& t, double mean, double std, const char* what) {
  const Moments m = moments(t);
  const double n = static_cast<double>(t.numel());
  EXPECT_NEAR(m.mean, mean, 5 * std / std::sqrt(n)) << what;
  EXPECT_NEAR(std::sqrt(m.variance) / std, 1.0, 0.01) << what;
  // A million normal draws reach beyond 4 standard deviations, but not beyond 6.5.
  EXPECT_GT(std::max(m.max - mean, mean - m.min), 4 * std) << what;
  EXPECT_LT(std::max(m.max - mean, mean - m.min), 6.5 * std) << what;
}

}  // namespace

TEST(Init, CalculateGain) {
  for (const char* linear : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                             "conv_transpose3d", "sigmoid"}) {
    EXPECT_EQ(init::calculate_gain(linear), 1.0) << linear;
  }
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("selu"), 0.75);
  EXPECT_THROW_WITH(init::calculate_gain("swish"), ValueError, "calculate_gain", "swish");
}

TEST(Init, FanInAndFanOut) {
  const init::Fans matrix = init::calculate_fan_in_and_fan_out(zeros({3, 5}));
  EXPECT_EQ(matrix.fan_in, 5);
  EXPECT_EQ(matrix.fan_out, 3);
  // A convolution weight [out_channels, in_channels, kh, kw]: the receptive field multiplies both.
  const init::Fans conv = init::calculate_fan_in_and_fan_out(zeros({8, 4, 3, 2}));
  EXPECT_EQ(conv.fan_in, 4 * 6);
  EXPECT_EQ(conv.fan_out, 8 * 6);
  const init::Fans conv1d = init::calculate_fan_in_and_fan_out(zeros({6, 2, 5}));
  EXPECT_EQ(conv1d.fan_in, 10);
  EXPECT_EQ(conv1d.fan_out, 30);
  EXPECT_THROW_WITH(init::calculate_fan_in_and_fan_out(zeros({5})), ValueError, "fewer than 2 dimensions", "[5]");
  EXPECT_THROW_WITH(init::xavier_uniform_(zeros({5})), ValueError, "fewer than 2 dimensions");
  EXPECT_THROW_WITH(init::kaiming_normal_(zeros({5})), ValueError, "fewer than 2 dimensions");
}

TEST(Init, UniformAndNormal) {
  Generator g(1);
  const Tensor u = init::uniform_(empty({1000, 1000}, kFloat64), -0.5, 1.5, g);
  const Moments mu = moments(u);
  EXPECT_NEAR(mu.mean, 0.5, 5 * 2.0 / std::sqrt(12e6));
  EXPECT_NEAR(mu.variance / (4.0 / 12.0), 1.0, 0.01);
  EXPECT_GE(mu.min, -0.5);
  EXPECT_LT(mu.max, 1.5);
  expect_normal(init::normal_(empty({1000, 1000}, kFloat64), 2.0, 0.5, g), 2.0, 0.5, "normal_");
  EXPECT_THROW_WITH(init::uniform_(empty({2}), 1.0, 0.0), ValueError, "uniform_", "a <= b");
  EXPECT_THROW_WITH(init::normal_(empty({2}), 0.0, -1.0), ValueError, "normal_", "std");
  EXPECT_THROW_WITH(init::normal_(tensor_int64({1}, {1})), DTypeError, "normal_", "int64");
}

TEST(Init, Xavier) {
  Generator g(2);
  // fan_in 2000, fan_out 500.
  const double gain = 1.5;
  expect_uniform(init::xavier_uniform_(empty({500, 2000}, kFloat64), gain, g), gain * std::sqrt(6.0 / 2500.0),
                 "xavier_uniform_");
  expect_normal(init::xavier_normal_(empty({500, 2000}, kFloat64), gain, g), 0.0, gain * std::sqrt(2.0 / 2500.0),
                "xavier_normal_");
  expect_uniform(init::xavier_uniform_(empty({1000, 1000}), 1.0, g), std::sqrt(6.0 / 2000.0), "xavier_uniform_ float32");
}

TEST(Init, Kaiming) {
  Generator g(3);
  // fan_in 2000, fan_out 500; gain sqrt(2) for relu, sqrt(2 / (1 + a^2)) for leaky_relu.
  expect_uniform(init::kaiming_uniform_(empty({500, 2000}, kFloat64), 0.0, "fan_in", "relu", g),
                 std::sqrt(2.0) * std::sqrt(3.0 / 2000.0), "kaiming_uniform_ fan_in relu");
  expect_uniform(init::kaiming_uniform_(empty({500, 2000}, kFloat64), 0.0, "fan_out", "relu", g),
                 std::sqrt(2.0) * std::sqrt(3.0 / 500.0), "kaiming_uniform_ fan_out relu");
  expect_uniform(init::kaiming_uniform_(empty({500, 2000}, kFloat64), 0.5, "fan_in", "leaky_relu", g),
                 std::sqrt(2.0 / 1.25) * std::sqrt(3.0 / 2000.0), "kaiming_uniform_ leaky_relu a=0.5");
  expect_normal(init::kaiming_normal_(empty({500, 2000}, kFloat64), 0.0, "fan_out", "relu", g), 0.0,
                std::sqrt(2.0) / std::sqrt(500.0), "kaiming_normal_ fan_out relu");
  expect_normal(init::kaiming_normal_(empty({500, 2000}, kFloat64), 0.0, "fan_in", "tanh", g), 0.0,
                (5.0 / 3.0) / std::sqrt(2000.0), "kaiming_normal_ fan_in tanh");
  // A convolution weight: fan_in = 32 * 3 * 3 = 288.
  expect_uniform(init::kaiming_uniform_(empty({256, 32, 3, 3}, kFloat64), 0.0, "fan_in", "relu", g),
                 std::sqrt(2.0) * std::sqrt(3.0 / 288.0), "kaiming_uniform_ conv");
  EXPECT_THROW_WITH(init::kaiming_uniform_(empty({2, 2}), 0.0, "fan_avg"), ValueError, "kaiming_uniform_", "fan_avg");
  EXPECT_THROW_WITH(init::kaiming_normal_(empty({2, 2}), 0.0, "fan_in", "swish"), ValueError, "swish");
}

TEST(Init, LinearDefaultInitialization) {
  // PyTorch's: weight kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), bias the same.
  manual_seed(4);
  Linear fc({.in_features = 2000, .out_features = 500});
  expect_uniform(fc.weight(), 1.0 / std::sqrt(2000.0), "Linear weight");
  const Moments b = moments(fc.bias());
  EXPECT_GE(b.min, -1.0 / std::sqrt(2000.0));
  EXPECT_LE(b.max, 1.0 / std::sqrt(2000.0));
  EXPECT_NEAR(b.variance / (1.0 / 2000.0 / 3.0), 1.0, 0.2);  // 500 draws: about 6% sampling error
  Linear square({.in_features = 1000, .out_features = 1000, .dtype = kFloat64});
  expect_uniform(square.weight(), 1.0 / std::sqrt(1000.0), "Linear 1000 x 1000 weight");
}

TEST(Init, ConstantsWriteInPlaceThroughViews) {
  Tensor base = zeros({3, 4}, kFloat64);
  const Tensor column = base.select(1, 2);  // a strided view
  init::ones_(column);
  init::constant_(base.select(0, 0), 7.5);
  EXPECT_EQ(base.to_vector<double>(), (std::vector<double>{7.5, 7.5, 7.5, 7.5, 0, 0, 1, 0, 0, 0, 1, 0}));
  init::zeros_(base);
  EXPECT_EQ(base.to_vector<double>(), std::vector<double>(12, 0.0));
  // Random initializers write through views too, leaving the rest alone.
  Generator g(6);
  init::uniform_(base.transpose(0, 1).slice(0, 1, 2), 1.0, 2.0, g);
  for (std::int64_t i = 0; i < 3; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) {
      if (j == 1) {
        EXPECT_GE(base.at({i, j}), 1.0);
      } else {
        EXPECT_EQ(base.at({i, j}), 0.0);
      }
    }
  }
}

TEST(Init, ParametersStayLeavesAndSeedsReproduce) {
  Tensor w = zeros({30, 20});
  w.requires_grad_();
  Generator g1(10), g2(10);
  init::kaiming_uniform_(w, std::sqrt(5.0), "fan_in", "leaky_relu", g1);
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
  EXPECT_FALSE(w.grad_fn());
  Tensor w64 = zeros({30, 20}, kFloat64);
  init::kaiming_uniform_(w64, std::sqrt(5.0), "fan_in", "leaky_relu", g2);
  // The same draws in both dtypes, rounded once.
  const std::vector<double> a = w.to_vector<double>(), b = w64.to_vector<double>();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], static_cast<double>(static_cast<float>(b[i])));
  // The default generator is used when none is given.
  manual_seed(11);
  const Tensor d1 = init::normal_(empty({5, 5}));
  manual_seed(11);
  const Tensor d2 = init::normal_(empty({5, 5}));
  EXPECT_EQ(d1.to_vector<double>(), d2.to_vector<double>());
}
