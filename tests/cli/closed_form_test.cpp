// least_squares: exact on noiseless data, the ridge solution zeroes the gradient of the loss descent
// trains, several targets solve independently, collinear features give no solution.
#include "closed_form.h"

#include <gtest/gtest.h>

#include <cmath>

#include "descent/core/error.h"

namespace descent::cli {
namespace {

TEST(LeastSquares, RecoversAnExactLinearFunction) {
  // y = 2 x0 - x1 + 3, four points.
  const Tensor x = tensor({0, 0, 1, 0, 0, 1, 2, 3}, {4, 2});
  const Tensor y = tensor({3, 5, 2, 4}, {4, 1});
  const auto s = least_squares(x, y, 0.0);
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->weight[0][0], 2.0, 1e-10);
  EXPECT_NEAR(s->weight[0][1], -1.0, 1e-10);
  EXPECT_NEAR(s->bias[0], 3.0, 1e-10);
  EXPECT_NEAR(s->loss, 0.0, 1e-18);
}

TEST(LeastSquares, RidgeZeroesTheGradientOfTheTrainedLoss) {
  // loss(w, b) = mean((x w + b - y)^2) + 0.5 l2 w^2: d/dw = 2/N sum x r + l2 w = 0, d/db = 2/N sum r = 0.
  const std::vector<double> xs = {-1, 0, 1, 2, 4}, ys = {0.5, 1.0, 3.5, 3.0, 7.5};
  const double l2 = 0.3;
  const auto s = least_squares(tensor(xs, {5, 1}, kFloat64), tensor(ys, {5, 1}, kFloat64), l2);
  ASSERT_TRUE(s);
  const double w = s->weight[0][0], b = s->bias[0];
  double gw = 0, gb = 0, mse = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double r = w * xs[i] + b - ys[i];
    gw += 2.0 / 5 * xs[i] * r;
    gb += 2.0 / 5 * r;
    mse += r * r / 5;
  }
  EXPECT_NEAR(gw + l2 * w, 0.0, 1e-12);
  EXPECT_NEAR(gb, 0.0, 1e-12);
  EXPECT_NEAR(s->loss, mse + 0.5 * l2 * w * w, 1e-12);
  // Shrinkage: the ridge slope is smaller than the plain one.
  EXPECT_LT(std::abs(w), std::abs(least_squares(tensor(xs, {5, 1}), tensor(ys, {5, 1}), 0.0)->weight[0][0]));
}

TEST(LeastSquares, SeveralTargetsAreSolvedColumnByColumn) {
  const Tensor x = tensor({0, 1, 2, 3}, {4, 1});
  const Tensor y = tensor({1, -1, 3, -3, 5, -5, 7, -7}, {4, 2});  // 2x + 1 and -2x - 1
  const auto s = least_squares(x, y, 0.0);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->weight.size(), 2u);
  EXPECT_NEAR(s->weight[0][0], 2.0, 1e-10);
  EXPECT_NEAR(s->bias[0], 1.0, 1e-10);
  EXPECT_NEAR(s->weight[1][0], -2.0, 1e-10);
  EXPECT_NEAR(s->bias[1], -1.0, 1e-10);
}

TEST(LeastSquares, CollinearFeaturesHaveNoUniqueSolutionUnlessRegularized) {
  const Tensor x = tensor({1, 2, 2, 4, 3, 6}, {3, 2});  // x1 = 2 x0
  const Tensor y = tensor({1, 2, 3}, {3, 1});
  EXPECT_FALSE(least_squares(x, y, 0.0));
  EXPECT_TRUE(least_squares(x, y, 0.1));
  EXPECT_THROW(least_squares(tensor({1, 2, 3}, {3}), y, 0.0), ShapeError);
}

}  // namespace
}  // namespace descent::cli
