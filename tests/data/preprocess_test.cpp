// Scaler: statistics per feature and global, transform and inverse, state dict round trips, errors.

#include <descent/data/preprocess.h>
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>

#include "data/data_test_util.h"

using namespace descent;
using namespace descent::data;

namespace {

void expect_near_all(const Tensor& got, const std::vector<double>& expected, double tol = 1e-6) {
  const std::vector<double> v = got.to_vector<double>();
  ASSERT_EQ(v.size(), expected.size());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], tol) << "element " << i;
}

// Feature 0: 1, 3, 5 (mean 3, population std sqrt(8/3)); feature 1: constant 10.
Tensor two_features() { return tensor({1, 10, 3, 10, 5, 10}, {3, 2}); }

}  // namespace

TEST(ScalerKinds, ParseAndPrint) {
  for (ScalerKind kind : {ScalerKind::None, ScalerKind::Standardize, ScalerKind::MinMax, ScalerKind::Scale}) {
    EXPECT_EQ(parse_scaler_kind(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(ScalerKind::MinMax), "minmax");
  EXPECT_ERROR(parse_scaler_kind("zscore"), ValueError, "unknown scaler 'zscore'", "none, standardize, minmax, scale");
}

TEST(ScalerStandardize, FitsPerFeatureAndGivesConstantFeaturesStdOne) {
  Scaler scaler(ScalerKind::Standardize);
  EXPECT_FALSE(scaler.fitted());
  scaler.fit(two_features());
  EXPECT_TRUE(scaler.fitted());
  const double s = std::sqrt(8.0 / 3.0);
  const Tensor y = scaler.transform(two_features());
  EXPECT_EQ(y.dtype(), kFloat32);
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  expect_near_all(y, {-2 / s, 0, 0, 0, 2 / s, 0});
  expect_near_all(scaler.inverse_transform(y), {1, 10, 3, 10, 5, 10}, 1e-5);
  const auto state = scaler.state_dict();
  expect_near_all(state.at("mean"), {3, 10}, 1e-12);
  expect_near_all(state.at("std"), {s, 1}, 1e-12);
}

TEST(ScalerStandardize, KeepsFloat64AndNonContiguousInputs) {
  Scaler scaler(ScalerKind::Standardize);
  const Tensor x = tensor({1, 3, 5, 10, 10, 10}, {2, 3}, kFloat64).t();  // the [3, 2] data, transposed view
  scaler.fit(x);
  const Tensor y = scaler.transform(x);
  EXPECT_EQ(y.dtype(), kFloat64);
  const double s = std::sqrt(8.0 / 3.0);
  expect_near_all(y, {-2 / s, 0, 0, 0, 2 / s, 0}, 1e-15);
}

TEST(ScalerStandardize, GlobalStatisticsUseEveryValue) {
  // Images [N, 1, 2, 2]: per_feature = false normalizes by the mean and std of all pixels.
  const Tensor images = tensor({0, 2, 4, 6, 8, 10, 12, 14}, {2, 1, 2, 2});
  Scaler global(ScalerKind::Standardize, /*per_feature=*/false);
  global.fit(images);
  const auto state = global.state_dict();
  EXPECT_EQ(state.at("mean").shape(), (Shape{1}));
  EXPECT_NEAR(state.at("mean").flat(0), 7.0, 1e-12);
  EXPECT_NEAR(state.at("std").flat(0), std::sqrt(21.0), 1e-12);
  EXPECT_EQ(global.transform(images).shape(), (Shape{2, 1, 2, 2}));
  EXPECT_NEAR(global.transform(images).at({1, 0, 1, 1}), 7 / std::sqrt(21.0), 1e-6);
  // Any shape goes through a global scaler.
  EXPECT_NEAR(global.transform(tensor({7}, {1})).item(), 0.0, 1e-7);

  Scaler per_pixel(ScalerKind::Standardize);  // [N, 1, 2, 2] is 4 features per example
  per_pixel.fit(images);
  EXPECT_EQ(per_pixel.state_dict().at("mean").shape(), (Shape{4}));
  expect_near_all(per_pixel.state_dict().at("mean"), {4, 6, 8, 10}, 1e-12);
  expect_near_all(per_pixel.transform(images), {-1, -1, -1, -1, 1, 1, 1, 1});
}

TEST(ScalerMinMax, MapsIntoUnitIntervalAndConstantsToZero) {
  Scaler scaler(ScalerKind::MinMax);
  scaler.fit(two_features());
  expect_near_all(scaler.transform(two_features()), {0, 0, 0.5, 0, 1, 0});
  expect_near_all(scaler.transform(tensor({9, 11}, {1, 2})), {2, 1});  // outside the fitted range: not clipped
  expect_near_all(scaler.inverse_transform(tensor({0.25, 0}, {1, 2})), {2, 10});
  const auto state = scaler.state_dict();
  expect_near_all(state.at("min"), {1, 10}, 0);
  expect_near_all(state.at("max"), {5, 10}, 0);
  EXPECT_EQ(state.count("mean"), 0u);
}

TEST(ScalerScale, DividesByTheConstantWithoutFitting) {
  Scaler scaler(ScalerKind::Scale, true, 255.0);
  EXPECT_TRUE(scaler.fitted());
  const Tensor pixels = tensor({0, 51, 255}, {1, 3});
  expect_near_all(scaler.transform(pixels), {0, 0.2, 1});
  scaler.fit(tensor({1000}, {1, 1}));  // does nothing
  expect_near_all(scaler.transform(pixels), {0, 0.2, 1});
  expect_near_all(scaler.inverse_transform(tensor({0.2}, {1})), {51}, 1e-4);
  EXPECT_ERROR(Scaler(ScalerKind::Scale, true, 0.0), ValueError, "scale must be finite and non-zero, got 0");
}

TEST(ScalerNone, ReturnsTheInput) {
  Scaler scaler;
  EXPECT_EQ(scaler.kind(), ScalerKind::None);
  EXPECT_TRUE(scaler.fitted());
  const Tensor x = tensor({1, 2}, {1, 2});
  EXPECT_TRUE(scaler.transform(x).is_same(x));
  EXPECT_TRUE(scaler.inverse_transform(x).is_same(x));
}

TEST(ScalerErrors, UnfittedEmptyNanAndShapeMismatch) {
  Scaler scaler(ScalerKind::Standardize);
  EXPECT_ERROR(scaler.transform(two_features()), ValueError, "Scaler.transform: the standardize scaler is not fitted");
  EXPECT_ERROR(scaler.inverse_transform(two_features()), ValueError, "not fitted");
  EXPECT_ERROR(scaler.fit(zeros({0, 2})), ValueError, "Scaler.fit: no data to fit (shape [0, 2])");
  EXPECT_ERROR(scaler.fit(tensor({1, NAN, 2, 3}, {2, 2})), ValueError, "feature 1 holds NaN or infinite values");
  EXPECT_FALSE(scaler.fitted());
  scaler.fit(two_features());
  EXPECT_ERROR(scaler.transform(zeros({3, 3})), ShapeError,
               "Scaler.transform: x has shape [3, 3] (3 features per row), the scaler was fitted on 2");
  EXPECT_ERROR(scaler.inverse_transform(zeros({2})), ShapeError, "fitted on 2");
  EXPECT_ERROR(scaler.transform(tensor_int64({1, 2}, {1, 2})), DTypeError, "int64");
  EXPECT_EQ(scaler.transform(zeros({0, 2})).shape(), (Shape{0, 2}));  // no rows is fine
}

TEST(ScalerStateDict, RoundTripsBitForBit) {
  Generator gen(3);
  const Tensor x = randn({50, 4}, gen) * 3.0 + 7.0;
  for (ScalerKind kind : {ScalerKind::Standardize, ScalerKind::MinMax}) {
    for (bool per_feature : {true, false}) {
      SCOPED_TRACE(std::string(to_string(kind)) + (per_feature ? " per feature" : " global"));
      Scaler fitted(kind, per_feature);
      fitted.fit(x);
      const auto state = fitted.state_dict();
      Scaler loaded;  // a None scaler takes the saved kind
      loaded.load_state_dict(state);
      EXPECT_EQ(loaded.kind(), kind);
      EXPECT_TRUE(loaded.fitted());
      EXPECT_EQ(loaded.transform(x).to_vector<float>(), fitted.transform(x).to_vector<float>());
      EXPECT_EQ(loaded.state_dict().at("kind").to_vector<std::int64_t>(), state.at("kind").to_vector<std::int64_t>());
    }
  }
  Scaler scale(ScalerKind::Scale, true, 255);
  Scaler loaded;
  loaded.load_state_dict(scale.state_dict());
  EXPECT_EQ(loaded.kind(), ScalerKind::Scale);
  EXPECT_NEAR(loaded.transform(tensor({255}, {1})).item(), 1.0, 1e-7);
}

TEST(ScalerStateDict, StoresTheKindAsBytes) {
  Scaler scaler(ScalerKind::MinMax);
  scaler.fit(two_features());
  const auto state = scaler.state_dict();
  std::vector<std::string> keys;
  for (const auto& [key, value] : state) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"kind", "max", "min", "per_feature", "scale"}));
  const Tensor kind = state.at("kind");
  EXPECT_EQ(kind.dtype(), kInt64);
  EXPECT_EQ(kind.to_vector<std::int64_t>(), (std::vector<std::int64_t>{'m', 'i', 'n', 'm', 'a', 'x'}));
}

TEST(ScalerStateDict, AnUnfittedScalerStaysUnfitted) {
  Scaler unfitted(ScalerKind::Standardize);
  EXPECT_EQ(unfitted.state_dict().count("mean"), 0u);
  Scaler loaded(ScalerKind::MinMax);
  loaded.fit(two_features());
  loaded.load_state_dict(unfitted.state_dict());
  EXPECT_EQ(loaded.kind(), ScalerKind::Standardize);
  EXPECT_FALSE(loaded.fitted());
}

TEST(ScalerStateDict, ReportsBadStates) {
  Scaler fitted(ScalerKind::Standardize);
  fitted.fit(two_features());
  const auto good = fitted.state_dict();
  Scaler target(ScalerKind::MinMax);

  auto without = [&](const std::string& key) {
    auto s = good;
    s.erase(key);
    return s;
  };
  EXPECT_ERROR(target.load_state_dict(without("kind")), ValueError, "Scaler.load_state_dict", "missing", "\"kind\"");
  EXPECT_ERROR(target.load_state_dict(without("std")), ValueError, "Scaler.load_state_dict", "missing", "\"std\"");
  auto bogus = good;
  bogus["kind"] = tensor_int64({'z', 'z'}, {2});
  EXPECT_ERROR(target.load_state_dict(bogus), ValueError, "Scaler.load_state_dict: unknown scaler 'zz'");
  auto extra = good;
  extra["min"] = zeros({2}, kFloat64);
  EXPECT_ERROR(target.load_state_dict(extra), ValueError, "unexpected", "\"min\"");
  auto ragged = good;
  ragged["std"] = ones({3}, kFloat64);
  EXPECT_ERROR(target.load_state_dict(ragged), ShapeError, "\"std\"", "[3]");
  auto zero_std = good;
  zero_std["std"] = zeros({2}, kFloat64);
  EXPECT_ERROR(target.load_state_dict(zero_std), ValueError, "feature 0", "std = 0");
  // Nothing changed after the failed loads.
  EXPECT_EQ(target.kind(), ScalerKind::MinMax);
  EXPECT_FALSE(target.fitted());
}

TEST(ScalerInPlace, GivesTransformsBitsInTheSameMemory) {
  const Tensor x = tensor({1, 2, 4, 8, 3, -1}, {3, 2});
  for (const auto& [kind, per_feature] : std::vector<std::pair<ScalerKind, bool>>{
           {ScalerKind::Standardize, true}, {ScalerKind::Standardize, false}, {ScalerKind::MinMax, true}}) {
    Scaler s(kind, per_feature);
    s.fit(x);
    const Tensor want = s.transform(x);
    const Tensor y = x.clone();
    const void* memory = y.data_ptr<float>();
    const Tensor& out = s.transform_(y);
    EXPECT_EQ(&out, &y);
    EXPECT_EQ(y.data_ptr<float>(), memory);
    EXPECT_EQ(y.to_vector<float>(), want.to_vector<float>()) << to_string(kind);
  }
  Scaler scale(ScalerKind::Scale, true, 255.0);
  const Tensor pixels = tensor({0, 51, 255}, {3}, kFloat64);
  scale.transform_(pixels);
  expect_near_all(pixels, {0.0, 0.2, 1.0}, 1e-15);
  Scaler none;
  const Tensor same = tensor({5}, {1});
  none.transform_(same);
  EXPECT_EQ(same.item(), 5.0);
}

TEST(ScalerInPlace, RefusesWhatCannotBeScaledInPlace) {
  Scaler s(ScalerKind::Standardize);
  const Tensor x = tensor({1, 2, 4, 8}, {2, 2});
  EXPECT_THROW(s.transform_(x.clone()), ValueError);  // not fitted
  s.fit(x);
  EXPECT_THROW(s.transform_(x.transpose(0, 1)), ValueError);                         // not contiguous
  EXPECT_THROW(s.transform_(x.clone().requires_grad_(true)), ValueError);             // a leaf of the graph
  EXPECT_THROW(s.transform_(zeros({2, 2}, kInt64)), DTypeError);                     // integers
  EXPECT_THROW(s.transform_(zeros({2, 3})), ShapeError);                             // 3 features, fitted on 2
  EXPECT_THROW(s.transform_(Tensor()), ValueError);
}
