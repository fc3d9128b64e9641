// Metrics against values computed by hand (and agreeing with scikit-learn's definitions).

#include "descent/train/metrics.h"

#include <gtest/gtest.h>

#include "descent/core/error.h"

namespace descent::train {
namespace {

// Six examples over three classes; the comments give argmax and the true class's rank.
Tensor three_class_outputs() {
  return tensor({2, 1, 0,     // t0: pred 0, rank 0
                 0, 3, 1,     // t1: pred 1, rank 0
                 1, 0, 2,     // t0: pred 2, rank 1
                 0.5, 2, 1,   // t2: pred 1, rank 1
                 3, 2, 1,     // t2: pred 0, rank 2
                 0, 0, 5},    // t2: pred 2, rank 0
                {6, 3});
}
Tensor three_class_targets() { return tensor_int64({0, 1, 0, 2, 2, 2}, {6}); }

TEST(Metrics, ClassificationByHand) {
  ClassificationMetrics m(3, {.top_k = {2, 3}});
  m.update(three_class_outputs(), three_class_targets());
  EXPECT_EQ(m.count(), 6);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(m.top_k_accuracy(2), 5.0 / 6);
  EXPECT_DOUBLE_EQ(m.top_k_accuracy(3), 1.0);
  EXPECT_EQ(m.confusion_matrix(), (std::vector<std::vector<std::int64_t>>{{1, 0, 1}, {0, 1, 0}, {1, 1, 1}}));
  EXPECT_EQ(m.precision(), (std::vector<double>{0.5, 0.5, 0.5}));
  const auto r = m.recall();
  EXPECT_DOUBLE_EQ(r[0], 0.5);
  EXPECT_DOUBLE_EQ(r[1], 1.0);
  EXPECT_DOUBLE_EQ(r[2], 1.0 / 3);
  const auto f = m.f1();
  EXPECT_DOUBLE_EQ(f[0], 0.5);
  EXPECT_DOUBLE_EQ(f[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(f[2], 0.4);
  EXPECT_DOUBLE_EQ(m.macro_f1(), (0.5 + 2.0 / 3 + 0.4) / 3);
  const auto s = m.scalars();
  EXPECT_EQ(s.size(), 4u);
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 0.5);
  EXPECT_DOUBLE_EQ(s.at("top2_accuracy"), 5.0 / 6);
  EXPECT_DOUBLE_EQ(s.at("top3_accuracy"), 1.0);
  EXPECT_DOUBLE_EQ(s.at("macro_f1"), m.macro_f1());
  EXPECT_THROW(m.top_k_accuracy(1), ValueError);
}

TEST(Metrics, AccumulatesOverBatchesAndResets) {
  ClassificationMetrics m(3, {.top_k = {2}});
  Tensor out = three_class_outputs();
  Tensor y = three_class_targets();
  m.update(out.slice(0, 0, 4).to(kFloat64), y.slice(0, 0, 4));
  m.update(out.slice(0, 4, 6), y.slice(0, 4, 6).to(kFloat32));  // floating class indices are accepted
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(m.top_k_accuracy(2), 5.0 / 6);
  m.reset();
  EXPECT_EQ(m.count(), 0);
  EXPECT_EQ(m.accuracy(), 0.0);
}

TEST(Metrics, ZeroDivisionGivesZero) {
  ClassificationMetrics m(3);
  m.update(tensor({1, 0, 0, 0, 1, 0}, {2, 3}), tensor_int64({0, 0}, {2}));
  EXPECT_EQ(m.precision(), (std::vector<double>{1.0, 0.0, 0.0}));
  EXPECT_EQ(m.recall(), (std::vector<double>{0.5, 0.0, 0.0}));
  const auto f = m.f1();
  EXPECT_DOUBLE_EQ(f[0], 2.0 / 3);
  EXPECT_EQ(f[1], 0.0);
  EXPECT_EQ(f[2], 0.0);
}

TEST(Metrics, BinaryBySign) {
  // Outputs 2, -1, 0.5, -3 (and 0, which is class 0) -> predictions 1, 0, 1, 0, 0.
  const std::vector<double> out = {2, -1, 0.5, -3, 0};
  for (bool column : {false, true}) {
    for (bool plus_minus : {false, true}) {
      const double neg = plus_minus ? -1 : 0;
      const std::vector<double> y = {1, 1, neg, neg, neg};
      const Shape shape = column ? Shape{5, 1} : Shape{5};
      ClassificationMetrics m(2, {.top_k = {1, 2}});
      m.update(tensor(out, shape), tensor(y, shape));
      EXPECT_DOUBLE_EQ(m.accuracy(), 3.0 / 5) << column << plus_minus;
      EXPECT_DOUBLE_EQ(m.top_k_accuracy(1), 3.0 / 5);
      EXPECT_DOUBLE_EQ(m.top_k_accuracy(2), 1.0);
      EXPECT_EQ(m.confusion_matrix(), (std::vector<std::vector<std::int64_t>>{{2, 1}, {1, 1}}));
    }
  }
  ClassificationMetrics m(2);
  m.update(tensor(out, {5}), tensor_int64({1, 1, -1, -1, 0}, {5}));
  EXPECT_DOUBLE_EQ(m.accuracy(), 3.0 / 5);
  EXPECT_THROW(m.update(tensor({1}, {1}), tensor_int64({2}, {1})), IndexError);
}

TEST(Metrics, ClassificationBadShapes) {
  EXPECT_THROW(ClassificationMetrics(1), ValueError);
  EXPECT_THROW(ClassificationMetrics(3, {.top_k = {4}}), ValueError);
  ClassificationMetrics m(3);
  try {
    m.update(zeros({4, 2}), tensor_int64({0, 1, 2, 0}, {4}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.update(zeros({4, 3}), tensor_int64({0, 1, 2}, {3})), ShapeError);
  EXPECT_THROW(m.update(zeros({4}), tensor_int64({0, 1, 2, 0}, {4})), ShapeError);  // binary needs 2 classes
  EXPECT_THROW(m.update(zeros({2, 3}), tensor_int64({0, 3}, {2})), IndexError);
  EXPECT_THROW(m.update(zeros({2, 3}), tensor({0, 0.5}, {2})), IndexError);
  EXPECT_EQ(m.count(), 0);
}

TEST(Metrics, RegressionByHand) {
  // residuals -0.5, 0, 1, -1; target mean 2.625, SS_tot 7.6875, SS_res 2.25.
  RegressionMetrics m;
  m.update(tensor({1, 2}, {2}), tensor({1.5, 2}, {2}));
  m.update(tensor({3, 4}, {2, 1}), tensor({2, 5}, {2}));  // [N, 1] and [N] mix
  EXPECT_EQ(m.count(), 4);
  EXPECT_DOUBLE_EQ(m.mae(), 0.625);
  EXPECT_DOUBLE_EQ(m.mse(), 0.5625);
  EXPECT_DOUBLE_EQ(m.rmse(), 0.75);
  EXPECT_DOUBLE_EQ(m.r2(), 1 - 2.25 / 7.6875);
  const auto s = m.scalars();
  EXPECT_EQ(s.size(), 3u);
  EXPECT_DOUBLE_EQ(s.at("rmse"), 0.75);
  m.reset();
  EXPECT_EQ(m.count(), 0);
}

TEST(Metrics, RegressionMultiTarget) {
  RegressionMetrics m;
  m.update(tensor({1, 10, 2, 20, 3, 30}, {3, 2}), tensor({1, 11, 2, 19, 4, 30}, {3, 2}, kFloat64));
  EXPECT_DOUBLE_EQ(m.mae(), 0.5);
  EXPECT_DOUBLE_EQ(m.mse(), 0.5);
  // per target: 1 - 1 / (42/9) and 1 - 2 / 182, averaged
  EXPECT_NEAR(m.r2(), ((1 - 9.0 / 42) + (1 - 2.0 / 182)) / 2, 1e-12);
  EXPECT_THROW(m.update(zeros({2, 3}), zeros({2, 3})), ShapeError);  // 3 targets after 2
}

TEST(Metrics, RegressionConstantTarget) {
  RegressionMetrics exact;
  exact.update(full({3}, 0.1), full({3}, 0.1));
  EXPECT_EQ(exact.r2(), 1.0);
  RegressionMetrics off;
  off.update(tensor({0.1, 0.1, 0.4}, {3}), full({3}, 0.1));
  EXPECT_EQ(off.r2(), 0.0);
}

TEST(Metrics, RegressionBadShapes) {
  RegressionMetrics m;
  EXPECT_THROW(m.update(zeros({3}), zeros({4})), ShapeError);
  EXPECT_THROW(m.update(zeros({3, 2}), zeros({3})), ShapeError);
  EXPECT_THROW(m.update(zeros({3, 2, 1}), zeros({3, 2, 1})), ShapeError);
  EXPECT_THROW(m.update(zeros({3}), tensor_int64({1, 2, 3}, {3})), DTypeError);
}

}  // namespace
}  // namespace descent::train
