// The seeded generator: reproducibility, state round trips, and the distributions' statistics.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <descent/descent.h>

using namespace descent;

namespace {

std::vector<std::uint64_t> draws(Generator& g, int n) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(g.next_u64());
  return out;
}

TEST(Generator, SameSeedSameSequence) {
  Generator a(42), b(42);
  EXPECT_EQ(draws(a, 100), draws(b, 100));
  Generator c(7), d(7);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(c.uniform(), d.uniform());
    EXPECT_EQ(c.normal(), d.normal());
    EXPECT_EQ(c.integer(1000), d.integer(1000));
  }
}

TEST(Generator, DifferentSeedsDiffer) {
  Generator a(1), b(2);
  const auto da = draws(a, 10), db = draws(b, 10);
  for (int i = 0; i < 10; ++i) EXPECT_NE(da[i], db[i]);
  // Seed 0 is a valid seed (splitmix64 never gives an all-zero xoshiro state).
  Generator z(0);
  const auto dz = draws(z, 10);
  EXPECT_NE(dz[0], 0u);
  EXPECT_NE(dz, draws(a, 10));
}

TEST(Generator, ManualSeedResetsTheStream) {
  Generator g(5);
  const auto first = draws(g, 20);
  g.manual_seed(5);
  EXPECT_EQ(draws(g, 20), first);
  // Also after an odd number of normals (no value of the old stream leaks into the new one).
  g.manual_seed(9);
  const double n0 = g.normal();
  const double n1 = g.normal();
  g.normal();
  g.manual_seed(9);
  EXPECT_EQ(g.normal(), n0);
  EXPECT_EQ(g.normal(), n1);
}

TEST(Generator, StateRoundTripResumesExactly) {
  Generator g(123);
  draws(g, 17);
  const Generator::State saved = g.state();
  const auto expected = draws(g, 50);
  g.set_state(saved);
  EXPECT_EQ(draws(g, 50), expected);

  // A fresh generator given the state continues the same stream.
  Generator other(999);
  other.set_state(saved);
  EXPECT_EQ(draws(other, 50), expected);
  EXPECT_EQ(g.state(), other.state());
}

TEST(Generator, StateRoundTripResumesNormalsExactly) {
  // After an odd number of normal() calls, the saved state must still resume the normal stream
  // exactly (a cached Box-Muller spare must not make the resumed stream differ).
  for (int skip = 0; skip < 4; ++skip) {
    Generator g(2024);
    for (int i = 0; i < skip; ++i) g.normal();
    const Generator::State saved = g.state();
    std::vector<double> expected;
    for (int i = 0; i < 9; ++i) expected.push_back(g.normal());
    Generator resumed(0);
    resumed.set_state(saved);
    std::vector<double> got;
    for (int i = 0; i < 9; ++i) got.push_back(resumed.normal());
    EXPECT_EQ(got, expected) << "after " << skip << " normals";
  }
}

TEST(Generator, StateRoundTripResumesRandnExactly) {
  Generator g(31);
  randn({3}, g);  // an odd count
  const Generator::State saved = g.state();
  const Tensor expected = randn({5}, g, kFloat64);
  g.set_state(saved);
  EXPECT_EQ(randn({5}, g, kFloat64).to_vector<double>(), expected.to_vector<double>());
}

TEST(Generator, UniformInUnitInterval) {
  Generator g(3);
  double lo = 1.0, hi = 0.0, total = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = g.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    total += u;
  }
  EXPECT_LT(lo, 1e-3);
  EXPECT_GT(hi, 1.0 - 1e-3);
  // Mean 1/2, standard error sqrt(1/12 / n) ~ 6.5e-4.
  EXPECT_NEAR(total / n, 0.5, 5e-3);
}

TEST(Generator, NormalMoments) {
  Generator g(11);
  const int n = 200000;
  double sum = 0.0, sum_sq = 0.0, sum_4 = 0.0;
  int beyond_3 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = g.normal();
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sum_sq += x * x;
    sum_4 += x * x * x * x;
    beyond_3 += std::abs(x) > 3.0;
  }
  const double mean = sum / n;
  const double var = sum_sq / n - mean * mean;
  // Standard errors: mean 1/sqrt(n) ~ 2.2e-3, variance sqrt(2/n) ~ 3.2e-3.
  EXPECT_NEAR(mean, 0.0, 0.015);
  EXPECT_NEAR(var, 1.0, 0.02);
  EXPECT_NEAR(sum_4 / n, 3.0, 0.1);  // kurtosis of a normal
  // P(|x| > 3) = 0.0027 -> about 540 of 200k.
  EXPECT_GT(beyond_3, 400);
  EXPECT_LT(beyond_3, 700);
}

TEST(Generator, IntegerInRangeAndRoughlyUniform) {
  Generator g(17);
  const int buckets = 10;
  const int n = 100000;
  std::vector<int> counts(buckets, 0);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t k = g.integer(buckets);
    ASSERT_LT(k, static_cast<std::uint64_t>(buckets));
    ++counts[k];
  }
  // Expected 10000 each, standard deviation ~95.
  for (int c : counts) {
    EXPECT_GT(c, 9500);
    EXPECT_LT(c, 10500);
  }
  EXPECT_EQ(g.integer(1), 0u);
  EXPECT_THROW(g.integer(0), ValueError);
  // A bound near 2^64 still stays in range.
  const std::uint64_t big = (std::uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 100; ++i) EXPECT_LT(g.integer(big), big);
}

TEST(GeneratorTensors, RandReproducibleAndInRange) {
  Generator a(8), b(8);
  const Tensor x = rand({1000}, a);
  const Tensor y = rand({1000}, b);
  EXPECT_EQ(x.dtype(), kFloat32);
  EXPECT_EQ(x.to_vector<double>(), y.to_vector<double>());
  for (double v : x.to_vector<double>()) {
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
  EXPECT_NE(rand({1000}, a).to_vector<double>(), x.to_vector<double>());  // the stream moves on
  EXPECT_EQ(rand({2, 3}, a, kFloat64).shape(), (Shape{2, 3}));
  EXPECT_THROW(rand({2}, a, kInt64), DTypeError);
}

TEST(GeneratorTensors, RandFloat32NeverReachesOne) {
  // The largest double uniform, 1 - 2^-53, must not round to 1.0f: rand is [0, 1) in float32 too.
  // xoshiro256++'s output is rotl(s0 + s3, 23) + s0, so s0 = 0, s3 = ~0 makes it all ones.
  Generator g;
  g.set_state({0, 1, 2, ~std::uint64_t{0}});
  Generator copy;
  copy.set_state(g.state());
  ASSERT_EQ(copy.next_u64(), ~std::uint64_t{0});
  const Tensor r = rand({1}, g, kFloat32);
  EXPECT_LT(r.item(), 1.0);
  EXPECT_GE(r.item(), 0.0);
  g.set_state({0, 1, 2, ~std::uint64_t{0}});
  EXPECT_LT(rand({1}, g, kFloat64).item(), 1.0);
}

TEST(GeneratorTensors, RandnReproducibleWithSensibleMoments) {
  Generator a(21), b(21);
  const Tensor x = randn({100000}, a, kFloat64);
  EXPECT_EQ(x.to_vector<double>(), randn({100000}, b, kFloat64).to_vector<double>());
  const std::vector<double> v = x.to_vector<double>();
  double sum = 0.0, sum_sq = 0.0;
  for (double e : v) {
    sum += e;
    sum_sq += e * e;
  }
  EXPECT_NEAR(sum / v.size(), 0.0, 0.02);
  EXPECT_NEAR(sum_sq / v.size(), 1.0, 0.03);
  // Neighbouring elements are independent (not a cos/sin pair with a fixed relation).
  double cross = 0.0;
  for (std::size_t i = 0; i + 1 < v.size(); i += 2) cross += v[i] * v[i + 1];
  EXPECT_NEAR(cross / (v.size() / 2), 0.0, 0.03);
  EXPECT_EQ(randn({4}, a).dtype(), kFloat32);
  EXPECT_THROW(randn({2}, a, kInt64), DTypeError);
}

TEST(GeneratorTensors, RandintReproducibleAndInRange) {
  Generator a(4), b(4);
  const Tensor x = randint(-3, 5, {2000}, a);
  EXPECT_EQ(x.dtype(), kInt64);
  EXPECT_EQ(x.to_vector<std::int64_t>(), randint(-3, 5, {2000}, b).to_vector<std::int64_t>());
  std::vector<int> seen(8, 0);
  for (std::int64_t v : x.to_vector<std::int64_t>()) {
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 5);
    ++seen[v + 3];
  }
  for (int c : seen) EXPECT_GT(c, 150);  // 250 expected each
  EXPECT_THROW(randint(5, 5, {1}, a), ValueError);
  EXPECT_THROW(randint(6, 5, {1}, a), ValueError);
  // The widest range does not overflow.
  const Tensor wide = randint(std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                              {100}, a);
  bool negative = false, positive = false;
  for (std::int64_t v : wide.to_vector<std::int64_t>()) {
    EXPECT_LT(v, std::numeric_limits<std::int64_t>::max());
    negative |= v < 0;
    positive |= v > 0;
  }
  EXPECT_TRUE(negative && positive);
}

TEST(GeneratorTensors, DefaultGeneratorManualSeed) {
  manual_seed(77);
  const auto first = draws(default_generator(), 5);
  const Tensor r1 = rand({10}, default_generator());
  manual_seed(77);
  EXPECT_EQ(draws(default_generator(), 5), first);
  EXPECT_EQ(rand({10}, default_generator()).to_vector<double>(), r1.to_vector<double>());
  // The default generator is one object.
  EXPECT_EQ(&default_generator(), &default_generator());
  // manual_seed(s) on the default generator gives what a Generator(s) gives.
  manual_seed(5);
  Generator g(5);
  EXPECT_EQ(draws(default_generator(), 5), draws(g, 5));
}

}  // namespace
