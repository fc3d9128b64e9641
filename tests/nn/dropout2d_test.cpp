// Dropout2d: whole channels are zeroed (or scaled by 1 / (1 - p)), with probability p each, from
// the module's own generator; identity in evaluation mode; errors name the layer.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "descent/descent.h"
#include "ops/op_check.h"

using namespace descent;
using namespace descent::nn;

namespace {

// For y = dropout2d(x) with x != 0 everywhere: checks that each of the `planes` feature maps of
// `plane` elements is either all zeros or all x / (1 - p), and returns how many are zero.
std::int64_t dropped_planes(const Tensor& x, const Tensor& y, std::int64_t planes, std::int64_t plane, double p) {
  const std::vector<double> xs = x.to_vector<double>(), ys = y.to_vector<double>();
  std::int64_t dropped = 0;
  for (std::int64_t k = 0; k < planes; ++k) {
    const bool zero = ys[k * plane] == 0.0;
    dropped += zero ? 1 : 0;
    for (std::int64_t i = k * plane; i < (k + 1) * plane; ++i) {
      if (zero) {
        EXPECT_EQ(ys[i], 0.0) << "channel " << k << " is dropped only in part";
      } else {
        EXPECT_NEAR(ys[i], xs[i] / (1.0 - p), 1e-6 * std::abs(ys[i])) << "channel " << k << " element " << i;
      }
      if (::testing::Test::HasFailure()) return dropped;
    }
  }
  return dropped;
}

Tensor away_from_zero(const Shape& shape, std::uint64_t seed, DType dtype = kFloat32) {
  Generator g(seed);
  return add(rand(shape, g, dtype), 1.0);  // [1, 2)
}

}  // namespace

TEST(Dropout2dLayer, DropsWholeChannelsAndScalesTheRest) {
  for (DType dtype : {kFloat32, kFloat64}) {
    for (double p : {0.2, 0.5, 0.9}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " p " + std::to_string(p));
      Dropout2d drop({.p = p}, Generator(5));
      const Tensor x = away_from_zero({6, 8, 3, 4}, 1, dtype);
      const Tensor y = drop(x);
      EXPECT_EQ(y.shape(), x.shape());
      EXPECT_EQ(y.dtype(), dtype);
      dropped_planes(x, y, 6 * 8, 3 * 4, p);
    }
  }
}

TEST(Dropout2dLayer, FractionOfDroppedChannelsIsP) {
  for (double p : {0.1, 0.5, 0.75}) {
    Dropout2d drop({.p = p}, Generator(9));
    const std::int64_t planes = 100 * 200;
    const Tensor x = away_from_zero({100, 200, 2, 2}, 2);
    const std::int64_t dropped = dropped_planes(x, drop(x), planes, 4, p);
    // Within 5 standard deviations of the binomial count.
    const double n = static_cast<double>(planes);
    EXPECT_NEAR(static_cast<double>(dropped), n * p, 5 * std::sqrt(n * p * (1 - p))) << "p " << p;
  }
}

TEST(Dropout2dLayer, UnbatchedInputDropsChannels) {
  Dropout2d drop({.p = 0.5}, Generator(3));
  const Tensor x = away_from_zero({400, 3, 5}, 4);
  const Tensor y = drop(x);
  const std::int64_t dropped = dropped_planes(x, y, 400, 15, 0.5);
  EXPECT_NEAR(static_cast<double>(dropped), 200.0, 5 * std::sqrt(100.0));
}

TEST(Dropout2dLayer, IdentityInEvalModeAndForPZero) {
  const Tensor x = ones({2, 3, 4, 4});
  Dropout2d drop({.p = 0.5});
  drop.eval();
  EXPECT_TRUE(drop(x).is_same(x));
  const Generator::State state = drop.generator().state();
  drop(x);
  EXPECT_EQ(drop.generator().state(), state) << "evaluation mode draws nothing";
  Dropout2d none({.p = 0.0});
  EXPECT_TRUE(none(x).is_same(x));
  Dropout2d all({.p = 1.0});
  EXPECT_EQ(all(x).to_vector<double>(), std::vector<double>(x.numel(), 0.0));
}

TEST(Dropout2dLayer, SameSeedSameMasks) {
  const Tensor x = ones({4, 16, 2, 2});
  manual_seed(321);
  Dropout2d a;
  manual_seed(321);
  Dropout2d b;
  const Tensor ya1 = a(x), ya2 = a(x);
  EXPECT_EQ(ya1.to_vector<double>(), b(x).to_vector<double>());
  EXPECT_EQ(ya2.to_vector<double>(), b(x).to_vector<double>());
  EXPECT_NE(ya1.to_vector<double>(), ya2.to_vector<double>()) << "consecutive masks differ";
  manual_seed(322);
  Dropout2d c;
  EXPECT_NE(c(x).to_vector<double>(), ya1.to_vector<double>());
  // Given a generator: a copy of it, replayable through generator().
  Generator g(77);
  Dropout2d d({.p = 0.3}, g), e({.p = 0.3}, g);
  EXPECT_EQ(d(x).to_vector<double>(), e(x).to_vector<double>());
  d.generator().manual_seed(8);
  const Tensor first = d(x);
  d.generator().manual_seed(8);
  EXPECT_EQ(d(x).to_vector<double>(), first.to_vector<double>());
  // One draw per channel: the generator moves as far as for N * C elements, whatever H and W.
  Generator h1(4), h2(4);
  Dropout2d small({.p = 0.5}, h1), large({.p = 0.5}, h2);
  const Tensor y_small = small(ones({2, 5, 1, 1})), y_large = large(ones({2, 5, 7, 3}));
  EXPECT_EQ(small.generator().state(), large.generator().state());
  for (std::int64_t n = 0; n < 2; ++n) {
    for (std::int64_t ch = 0; ch < 5; ++ch) EXPECT_EQ(y_small.at({n, ch, 0, 0}), y_large.at({n, ch, 6, 2}));
  }
}

TEST(Dropout2dLayer, GradientIsTheMask) {
  Dropout2d drop({.p = 0.4}, Generator(6));
  const Tensor x = ones({5, 6, 3, 3}, kFloat64);
  x.requires_grad_();
  const Tensor y = drop(x);
  sum(y).backward();
  // dy/dx = mask / (1 - p), broadcast over each feature map: the output itself for x = 1.
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(x.grad().to_vector<double>(), y.to_vector<double>());
  const std::vector<double> gx = x.grad().to_vector<double>();
  bool zero = false, kept = false;
  for (double v : gx) {
    zero = zero || v == 0.0;
    kept = kept || std::abs(v - 1.0 / 0.6) < 1e-12;
  }
  EXPECT_TRUE(zero && kept) << "30 channels with p = 0.4: some dropped, some kept";
}

TEST(Dropout2dLayer, Repr) {
  EXPECT_EQ(Dropout2d().name(), "Dropout2d(p=0.5)");
  EXPECT_EQ(Dropout2d({.p = 0.25}).name(), "Dropout2d(p=0.25)");
  EXPECT_EQ(Dropout2d({.p = 0.0}).name(), "Dropout2d(p=0.0)");
  EXPECT_TRUE(Dropout2d().parameters().empty());
  EXPECT_TRUE(Dropout2d().buffers().empty());
}

TEST(Dropout2dLayer, Errors) {
  EXPECT_THROW_WITH(Dropout2d({.p = -0.1}), ValueError, "Dropout2d", "[0, 1]", "-0.1");
  EXPECT_THROW_WITH(Dropout2d({.p = 1.5}), ValueError, "Dropout2d", "1.5");
  EXPECT_THROW_WITH(Dropout2d({.p = 2.0}, Generator(1)), ValueError, "Dropout2d", "2");
  EXPECT_NO_THROW(Dropout2d({.p = 1.0}));
  Dropout2d drop;
  EXPECT_THROW_WITH(drop(zeros({4, 5})), ShapeError, "Dropout2d(p=0.5)", "[N, C, H, W] or [C, H, W]", "[4, 5]");
  EXPECT_THROW_WITH(drop(zeros({2, 3, 4, 5, 6})), ShapeError, "Dropout2d(p=0.5)", "[2, 3, 4, 5, 6]");
  EXPECT_THROW_WITH(drop(scalar_tensor(1.0)), ShapeError, "Dropout2d(p=0.5)", "[]");
  EXPECT_THROW_WITH(drop(Tensor()), ValueError, "Dropout2d(p=0.5)", "undefined");
  EXPECT_THROW_WITH(drop(zeros({2, 3, 4, 4}, kInt64)), DTypeError, "Dropout2d(p=0.5)", "int64");
  drop.eval();  // the shape is checked in evaluation mode too
  EXPECT_THROW_WITH(drop(zeros({4, 5})), ShapeError, "Dropout2d(p=0.5)", "[4, 5]");
}
