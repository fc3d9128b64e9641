// Behaviour of the learning-rate schedules beyond the PyTorch sequences (schedule_reference_test.cpp):
// exact state-dict round trips, errors for bad options and bad state dicts.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using descent::Tensor;
namespace optim = descent::optim;

#define EXPECT_THROW_MSG(stmt, ExceptionType, ...)                                                          \
  do {                                                                                                      \
    try {                                                                                                   \
      stmt;                                                                                                 \
      ADD_FAILURE() << "expected " #ExceptionType " from " #stmt;                                           \
    } catch (const ExceptionType& e_) {                                                                     \
      for (const char* part_ : {__VA_ARGS__}) {                                                             \
        EXPECT_NE(std::string(e_.what()).find(part_), std::string::npos)                                    \
            << "the message of " #stmt " lacks \"" << part_ << "\": " << e_.what();                         \
      }                                                                                                     \
    } catch (const std::exception& e_) {                                                                    \
      ADD_FAILURE() << "expected " #ExceptionType " from " #stmt ", got another exception: " << e_.what(); \
    }                                                                                                       \
  } while (false)

std::vector<optim::ParamGroup> two_groups() {
  Tensor a = descent::zeros({2}, descent::kFloat64), b = descent::zeros({3}, descent::kFloat64);
  a.requires_grad_();
  b.requires_grad_();
  return {{.params = {a}, .options = {{"lr", 0.1}}}, {.params = {b}, .options = {{"lr", 0.05}}}};
}

std::unique_ptr<optim::Optimizer> make_sgd() {
  return std::make_unique<optim::SGD>(two_groups(), optim::SGDOptions{.lr = 1.0, .momentum = 0.9});
}
std::unique_ptr<optim::Optimizer> make_adam() { return std::make_unique<optim::Adam>(two_groups()); }

using ScheduleFactory = std::function<std::shared_ptr<optim::Scheduler>(optim::Optimizer&)>;

struct RoundTripCase {
  std::string name;
  std::function<std::unique_ptr<optim::Optimizer>()> make_optimizer;
  ScheduleFactory make_schedule;
};

void step(optim::Scheduler& s, int k) {
  if (auto* plateau = dynamic_cast<optim::ReduceLROnPlateau*>(&s)) {
    plateau->step(k < 15 ? 1.0 / (k + 1) : 0.06 + 0.001 * (k % 3));  // falls, then plateaus
  } else {
    dynamic_cast<optim::LRScheduler&>(s).step();
  }
}

std::vector<double> momenta(const optim::Optimizer& opt) {
  std::vector<double> out;
  for (std::size_t g = 0; g < opt.num_param_groups(); ++g) {
    out.push_back(opt.has_option("betas") ? std::get<std::pair<double, double>>(opt.option(g, "betas")).first
                                          : std::get<double>(opt.option(g, "momentum")));
  }
  return out;
}

TEST(ScheduleStateDict, RoundTripReproducesTheScheduleExactly) {
  const std::vector<RoundTripCase> cases = {
      {"StepLR", make_sgd, [](auto& o) { return std::make_shared<optim::StepLR>(o, optim::StepLROptions{.step_size = 7}); }},
      {"MultiStepLR", make_sgd,
       [](auto& o) {
         return std::make_shared<optim::MultiStepLR>(o, optim::MultiStepLROptions{.milestones = {5, 25, 25, 40}});
       }},
      {"ExponentialLR", make_sgd,
       [](auto& o) { return std::make_shared<optim::ExponentialLR>(o, optim::ExponentialLROptions{.gamma = 0.9}); }},
      {"CosineAnnealingLR", make_sgd,
       [](auto& o) {
         return std::make_shared<optim::CosineAnnealingLR>(o, optim::CosineAnnealingLROptions{.T_max = 12, .eta_min = 1e-3});
       }},
      {"LinearLR", make_sgd, [](auto& o) { return std::make_shared<optim::LinearLR>(o); }},
      {"OneCycleLR_Adam", make_adam,
       [](auto& o) {
         return std::make_shared<optim::OneCycleLR>(o, optim::OneCycleLROptions{.max_lr = 1.0, .total_steps = 50, .three_phase = true});
       }},
      {"OneCycleLR_SGD", make_sgd,
       [](auto& o) {
         return std::make_shared<optim::OneCycleLR>(
             o, optim::OneCycleLROptions{.max_lrs = {1.0, 0.3}, .total_steps = 60, .anneal_strategy = "linear"});
       }},
      {"SequentialLR", make_sgd,
       [](auto& o) {
         auto warmup = std::make_shared<optim::LinearLR>(o, optim::LinearLROptions{.start_factor = 0.1, .total_iters = 8});
         auto cosine = std::make_shared<optim::CosineAnnealingLR>(o, optim::CosineAnnealingLROptions{.T_max = 30});
         return std::make_shared<optim::SequentialLR>(o, std::vector<std::shared_ptr<optim::LRScheduler>>{warmup, cosine},
                                                      std::vector<std::int64_t>{8});
       }},
      {"ReduceLROnPlateau", make_sgd,
       [](auto& o) {
         return std::make_shared<optim::ReduceLROnPlateau>(
             o, optim::ReduceLROnPlateauOptions{.factor = 0.5, .patience = 2, .cooldown = 1});
       }},
  };
  for (const RoundTripCase& c : cases) {
    SCOPED_TRACE(c.name);
    // 50 uninterrupted steps
    auto opt_a = c.make_optimizer();
    auto sched_a = c.make_schedule(*opt_a);
    std::vector<std::vector<double>> want_lrs, want_momenta;
    for (int k = 0; k < 50; ++k) {
      step(*sched_a, k);
      if (k >= 20) {
        want_lrs.push_back(sched_a->get_last_lr());
        want_momenta.push_back(momenta(*opt_a));
      }
    }
    // 20 steps, save both state dicts, load them into fresh objects, 30 more steps
    auto opt_b = c.make_optimizer();
    auto sched_b = c.make_schedule(*opt_b);
    for (int k = 0; k < 20; ++k) step(*sched_b, k);
    const auto opt_saved = opt_b->state_dict();
    const auto sched_saved = sched_b->state_dict();
    auto opt_c = c.make_optimizer();
    auto sched_c = c.make_schedule(*opt_c);
    opt_c->load_state_dict(opt_saved);
    sched_c->load_state_dict(sched_saved);
    for (int k = 20; k < 50; ++k) {
      step(*sched_c, k);
      EXPECT_EQ(sched_c->get_last_lr(), want_lrs[static_cast<std::size_t>(k - 20)]) << "step " << k;
      EXPECT_EQ(momenta(*opt_c), want_momenta[static_cast<std::size_t>(k - 20)]) << "step " << k;
    }
  }
}

TEST(ScheduleStateDict, RejectsMissingUnexpectedAndMisshapedKeys) {
  auto opt = make_sgd();
  optim::StepLR sched(*opt, {.step_size = 3});
  sched.step();
  const auto good = sched.state_dict();
  EXPECT_EQ(good.at("last_epoch").item(), 1.0);
  EXPECT_EQ(good.at("base_lrs").shape(), descent::Shape({2}));

  auto missing = good;
  missing.erase("gamma");
  EXPECT_THROW_MSG(sched.load_state_dict(missing), descent::ValueError, "StepLR.load_state_dict", "missing", "\"gamma\"");
  auto unexpected = good;
  unexpected["T_max"] = descent::scalar_tensor(3, descent::kFloat64);
  EXPECT_THROW_MSG(sched.load_state_dict(unexpected), descent::ValueError, "unexpected", "\"T_max\"");
  auto misshaped = good;
  misshaped["base_lrs"] = descent::zeros({3}, descent::kFloat64);
  EXPECT_THROW_MSG(sched.load_state_dict(misshaped), descent::ShapeError, "\"base_lrs\"", "[3]", "[2]");

  // SequentialLR nests its schedules' keys
  auto opt2 = make_sgd();
  auto warmup = std::make_shared<optim::LinearLR>(*opt2);
  auto decay = std::make_shared<optim::ExponentialLR>(*opt2, optim::ExponentialLROptions{.gamma = 0.9});
  optim::SequentialLR seq(*opt2, {warmup, decay}, {5});
  const auto sd = seq.state_dict();
  EXPECT_TRUE(sd.count("schedulers.0.start_factor"));
  EXPECT_TRUE(sd.count("schedulers.1.gamma"));
  auto bad = sd;
  bad.erase("schedulers.1.gamma");
  EXPECT_THROW_MSG(seq.load_state_dict(bad), descent::ValueError, "missing", "\"schedulers.1.gamma\"");
}

TEST(ScheduleErrors, InvalidOptions) {
  auto opt = make_sgd();
  EXPECT_THROW_MSG((optim::StepLR(*opt, {.step_size = 0})), descent::ValueError, "StepLR", "step_size", "0");
  EXPECT_THROW_MSG((optim::ExponentialLR(*opt, {})), descent::ValueError, "ExponentialLR", "gamma");
  EXPECT_THROW_MSG((optim::CosineAnnealingLR(*opt, {.T_max = -2})), descent::ValueError, "CosineAnnealingLR", "-2");
  EXPECT_THROW_MSG((optim::LinearLR(*opt, {.start_factor = 1.5})), descent::ValueError, "LinearLR", "start_factor",
                   "1.5");
  EXPECT_THROW_MSG((optim::ReduceLROnPlateau(*opt, {.factor = 1.0})), descent::ValueError, "ReduceLROnPlateau",
                   "factor should be < 1.0");
  EXPECT_THROW_MSG((optim::ReduceLROnPlateau(*opt, {.mode = "avg"})), descent::ValueError, "mode", "\"avg\"");
  EXPECT_THROW_MSG((optim::ReduceLROnPlateau(*opt, {.threshold_mode = "pct"})), descent::ValueError, "\"pct\"");
  EXPECT_THROW_MSG((optim::ReduceLROnPlateau(*opt, {.min_lrs = {0.1, 0.2, 0.3}})), descent::ValueError,
                   "expected 2 min_lrs, got 3");
  EXPECT_THROW_MSG((optim::OneCycleLR(*opt, {.max_lr = 1.0})), descent::ValueError, "OneCycleLR", "total_steps");
  EXPECT_THROW_MSG((optim::OneCycleLR(*opt, {.max_lr = 1.0, .total_steps = 10, .anneal_strategy = "cosine"})),
                   descent::ValueError, "\"cosine\"");
  EXPECT_THROW_MSG((optim::OneCycleLR(*opt, {.total_steps = 10})), descent::ValueError, "max_lr");
  EXPECT_THROW_MSG((optim::OneCycleLR(*opt, {.max_lrs = {1.0}, .total_steps = 10})), descent::ValueError,
                   "expected 2 values for max_lr, got 1");
  optim::Adagrad adagrad(two_groups());
  EXPECT_THROW_MSG((optim::OneCycleLR(adagrad, {.max_lr = 1.0, .total_steps = 10})), descent::ValueError, "Adagrad",
                   "momentum");
  auto s1 = std::make_shared<optim::StepLR>(*opt, optim::StepLROptions{.step_size = 2});
  auto s2 = std::make_shared<optim::ExponentialLR>(*opt, optim::ExponentialLROptions{.gamma = 0.5});
  EXPECT_THROW_MSG((optim::SequentialLR(*opt, {s1, s2}, {})), descent::ValueError, "SequentialLR", "2 schedules",
                   "0 milestones");
  auto other = make_sgd();
  auto s3 = std::make_shared<optim::StepLR>(*other, optim::StepLROptions{.step_size = 2});
  EXPECT_THROW_MSG((optim::SequentialLR(*opt, {s1, s3}, {3})), descent::ValueError, "same optimizer");
}

TEST(ScheduleErrors, OneCycleStopsAfterTotalSteps) {
  auto opt = make_sgd();
  optim::OneCycleLR sched(*opt, {.max_lr = 1.0, .total_steps = 5});
  for (int k = 0; k < 5; ++k) sched.step();
  const auto lr = sched.get_last_lr();
  const auto epoch = sched.last_epoch();
  EXPECT_THROW_MSG(sched.step(), descent::ValueError, "OneCycleLR", "tried to step 7 times", "total steps is 5");
  EXPECT_EQ(sched.last_epoch(), epoch) << "a failed step changes nothing";
  EXPECT_EQ(sched.get_last_lr(), lr);
}

}  // namespace
