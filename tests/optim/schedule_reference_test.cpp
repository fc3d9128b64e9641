// Compares every learning-rate schedule with torch.optim.lr_scheduler (1.13): for each schedule and
// variant, tests/reference/optim.json holds the learning rate of each of two parameter groups after
// construction and after each of 99 steps (ReduceLROnPlateau: after each of 100 step(metric) calls on
// a fixed metric sequence), and for OneCycleLR the cycled momentum (SGD) or beta1 (Adam). descent
// must agree within 1e-12 relative at every step.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "optim/reference_fixture.h"

namespace {

using descent::Tensor;
using json = nlohmann::json;
namespace optim = descent::optim;

constexpr double kRtol = 1e-12;
constexpr double kAtol = 1e-15;

double num(const json& o, const char* key, double fallback) { return o.contains(key) ? o.at(key).get<double>() : fallback; }
std::int64_t integer(const json& o, const char* key, std::int64_t fallback) {
  return o.contains(key) ? o.at(key).get<std::int64_t>() : fallback;
}
std::string str(const json& o, const char* key, const std::string& fallback) {
  return o.contains(key) ? o.at(key).get<std::string>() : fallback;
}

std::shared_ptr<optim::LRScheduler> make_schedule(optim::Optimizer& opt, const json& s) {
  const std::string type = s.at("type").get<std::string>();
  const json& o = s.at("options");
  if (type == "StepLR") {
    return std::make_shared<optim::StepLR>(
        opt, optim::StepLROptions{.step_size = integer(o, "step_size", 0), .gamma = num(o, "gamma", 0.1)});
  }
  if (type == "MultiStepLR") {
    return std::make_shared<optim::MultiStepLR>(
        opt, optim::MultiStepLROptions{.milestones = o.at("milestones").get<std::vector<std::int64_t>>(),
                                       .gamma = num(o, "gamma", 0.1)});
  }
  if (type == "ExponentialLR") {
    return std::make_shared<optim::ExponentialLR>(opt, optim::ExponentialLROptions{.gamma = num(o, "gamma", 0)});
  }
  if (type == "CosineAnnealingLR") {
    return std::make_shared<optim::CosineAnnealingLR>(
        opt, optim::CosineAnnealingLROptions{.T_max = integer(o, "T_max", 0), .eta_min = num(o, "eta_min", 0)});
  }
  if (type == "LinearLR") {
    return std::make_shared<optim::LinearLR>(opt, optim::LinearLROptions{.start_factor = num(o, "start_factor", 1.0 / 3),
                                                                         .end_factor = num(o, "end_factor", 1.0),
                                                                         .total_iters = integer(o, "total_iters", 5)});
  }
  if (type == "OneCycleLR") {
    optim::OneCycleLROptions options;
    if (o.at("max_lr").is_array()) {
      options.max_lrs = o.at("max_lr").get<std::vector<double>>();
    } else {
      options.max_lr = o.at("max_lr").get<double>();
    }
    options.total_steps = integer(o, "total_steps", 0);
    options.epochs = integer(o, "epochs", 0);
    options.steps_per_epoch = integer(o, "steps_per_epoch", 0);
    options.pct_start = num(o, "pct_start", 0.3);
    options.anneal_strategy = str(o, "anneal_strategy", "cos");
    options.cycle_momentum = o.value("cycle_momentum", true);
    options.base_momentum = num(o, "base_momentum", 0.85);
    options.max_momentum = num(o, "max_momentum", 0.95);
    options.div_factor = num(o, "div_factor", 25.0);
    options.final_div_factor = num(o, "final_div_factor", 1e4);
    options.three_phase = o.value("three_phase", false);
    return std::make_shared<optim::OneCycleLR>(opt, options);
  }
  ADD_FAILURE() << "the test cannot build schedule " << type;
  return nullptr;
}

std::vector<double> momenta(const optim::Optimizer& opt) {
  std::vector<double> out;
  for (std::size_t g = 0; g < opt.num_param_groups(); ++g) {
    if (opt.has_option("betas")) {
      out.push_back(std::get<std::pair<double, double>>(opt.option(g, "betas")).first);
    } else {
      out.push_back(std::get<double>(opt.option(g, "momentum")));
    }
  }
  return out;
}

void expect_close(const std::vector<double>& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t g = 0; g < got.size(); ++g) {
    const double w = want[g].get<double>();
    EXPECT_NEAR(got[g], w, kRtol * std::abs(w) + kAtol) << what << ", group " << g;
  }
}

std::vector<std::size_t> indices() {
  std::vector<std::size_t> out(optim_reference::cases("schedules").size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

class ScheduleReference : public testing::TestWithParam<std::size_t> {};

TEST_P(ScheduleReference, MatchesPyTorch) {
  const json& c = optim_reference::cases("schedules").at(GetParam());
  const auto group_lrs = c.at("group_lrs").get<std::vector<double>>();
  std::vector<Tensor> params = {descent::zeros({2}, descent::kFloat64), descent::zeros({3}, descent::kFloat64)};
  std::vector<optim::ParamGroup> groups;
  for (std::size_t g = 0; g < params.size(); ++g) {
    params[g].requires_grad_();
    groups.push_back({{params[g]}, {{"lr", group_lrs[g]}}});
  }
  std::unique_ptr<optim::Optimizer> opt;
  if (c.at("optimizer") == "SGD") {
    opt = std::make_unique<optim::SGD>(groups, optim::SGDOptions{.momentum = c.at("optimizer_options").at("momentum")});
  } else {
    const json& betas = c.at("optimizer_options").at("betas");
    opt = std::make_unique<optim::Adam>(groups, optim::AdamOptions{.betas = {betas[0], betas[1]}});
  }

  const json& s = c.at("schedule");
  const std::string type = s.at("type").get<std::string>();
  const json& lrs = c.at("lrs");
  if (type == "ReduceLROnPlateau") {
    const json& o = s.at("options");
    optim::ReduceLROnPlateauOptions options{.mode = str(o, "mode", "min"),
                                            .factor = num(o, "factor", 0.1),
                                            .patience = integer(o, "patience", 10),
                                            .threshold = num(o, "threshold", 1e-4),
                                            .threshold_mode = str(o, "threshold_mode", "rel"),
                                            .cooldown = integer(o, "cooldown", 0),
                                            .eps = num(o, "eps", 1e-8)};
    if (o.contains("min_lr") && o.at("min_lr").is_array()) {
      options.min_lrs = o.at("min_lr").get<std::vector<double>>();
    } else {
      options.min_lr = num(o, "min_lr", 0);
    }
    optim::ReduceLROnPlateau sched(*opt, options);
    const json& metrics = c.at("metrics");
    ASSERT_EQ(metrics.size(), lrs.size());
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      opt->step();
      sched.step(metrics[k].get<double>());
      expect_close(sched.get_last_lr(), lrs[k], "learning rate after step " + std::to_string(k + 1));
      if (HasFailure()) return;
    }
    return;
  }

  std::shared_ptr<optim::LRScheduler> sched;
  if (type == "SequentialLR") {
    std::vector<std::shared_ptr<optim::LRScheduler>> subs;
    for (const json& sub : s.at("schedules")) subs.push_back(make_schedule(*opt, sub));
    sched = std::make_shared<optim::SequentialLR>(*opt, subs, s.at("milestones").get<std::vector<std::int64_t>>());
  } else {
    sched = make_schedule(*opt, s);
  }
  ASSERT_NE(sched, nullptr);
  const json& want_momenta = c.at("momenta");
  for (std::size_t k = 0; k < lrs.size(); ++k) {
    if (k > 0) {
      opt->step();
      sched->step();
    }
    expect_close(sched->get_last_lr(), lrs[k], "learning rate after step " + std::to_string(k));
    for (std::size_t g = 0; g < opt->num_param_groups(); ++g) {
      EXPECT_EQ(opt->lr(g), sched->get_last_lr()[g]) << "the optimizer's lr is the schedule's";
    }
    if (!want_momenta.is_null()) expect_close(momenta(*opt), want_momenta[k], "momentum after step " + std::to_string(k));
    if (HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Schedule, ScheduleReference, testing::ValuesIn(indices()),
                         [](const testing::TestParamInfo<std::size_t>& info) {
                           return optim_reference::sanitize(
                               optim_reference::cases("schedules").at(info.param).at("name").get<std::string>());
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ScheduleReference);

TEST(ScheduleReferenceFixture, CoversEverySchedule) {
  ASSERT_TRUE(optim_reference::fixture().error.empty()) << optim_reference::fixture().error;
  std::map<std::string, int> per_type;
  for (const json& c : optim_reference::cases("schedules")) ++per_type[c.at("schedule").at("type").get<std::string>()];
  for (const char* type : {"StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR",
                           "ReduceLROnPlateau", "SequentialLR"}) {
    EXPECT_GE(per_type[type], 1) << type << " has no reference case";
  }
}

}  // namespace
