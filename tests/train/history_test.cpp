// History: columns, keys and a bit-exact JSON round trip.

#include "descent/train/history.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "descent/core/error.h"

namespace descent::train {
namespace {

History sample() {
  History h;
  h.epochs.push_back({{"epoch", 1}, {"loss", 0.1 + 0.2}, {"lr", 1e-3}});
  h.epochs.push_back({{"epoch", 2}, {"loss", 1.0 / 3}, {"val_loss", std::numeric_limits<double>::infinity()},
                      {"accuracy", 0.75}});
  h.steps.push_back({1, 1, 0.123456789012345678, 1e-3});
  h.steps.push_back({2, 2, std::nan(""), 1e-3});
  h.stop_reason = "early stopping (val_loss did not improve for 5 epochs)";
  return h;
}

TEST(History, ColumnsAndKeys) {
  History h = sample();
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"epoch", "loss", "lr", "accuracy", "val_loss"}));
  const auto lr = h.column("lr");
  ASSERT_EQ(lr.size(), 2u);
  EXPECT_EQ(lr[0], 1e-3);
  EXPECT_TRUE(std::isnan(lr[1]));
  EXPECT_TRUE(History().keys().empty());
}

TEST(History, JsonRoundTripIsExact) {
  History h = sample();
  History back = History::from_json(h.to_json());
  ASSERT_EQ(back.epochs.size(), 2u);
  EXPECT_EQ(back.epochs[0], h.epochs[0]);
  EXPECT_EQ(back.epochs[1].at("loss"), 1.0 / 3);
  EXPECT_TRUE(std::isnan(back.epochs[1].at("val_loss")));  // JSON has no infinity: null, read as NaN
  ASSERT_EQ(back.steps.size(), 2u);
  EXPECT_EQ(back.steps[0].loss, 0.123456789012345678);
  EXPECT_EQ(back.steps[1].step, 2);
  EXPECT_TRUE(std::isnan(back.steps[1].loss));
  EXPECT_EQ(back.stop_reason, h.stop_reason);
  EXPECT_EQ(History::from_json(back.to_json()).to_json(), back.to_json());
}

TEST(History, MalformedJson) {
  EXPECT_THROW(History::from_json("{"), ValueError);
  EXPECT_THROW(History::from_json("[]"), ValueError);
  EXPECT_THROW(History::from_json(R"({"epochs": [{"loss": "x"}]})"), ValueError);
  EXPECT_THROW(History::from_json(R"({"epochs": [], "steps": {"epoch": [1], "step": [], "loss": [], "lr": []}})"),
               ValueError);
  EXPECT_NO_THROW(History::from_json(R"({"epochs": []})"));
}

}  // namespace
}  // namespace descent::train
