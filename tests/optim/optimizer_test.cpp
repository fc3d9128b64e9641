// Behaviour of the optimizers beyond the PyTorch trajectories (optimizer_reference_test.cpp):
// convergence on XOR and on a linear regression, exact state-dict round trips, parameter groups,
// options by name, zero_grad, and the errors for bad options, bad parameters and bad state dicts.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using descent::Tensor;
namespace optim = descent::optim;

/// Expects `stmt` to throw ExceptionType whose message contains every one of the substrings.
#define EXPECT_THROW_MSG(stmt, ExceptionType, ...)                                                      \
  do {                                                                                                  \
    try {                                                                                               \
      stmt;                                                                                             \
      ADD_FAILURE() << "expected " #ExceptionType " from " #stmt;                                       \
    } catch (const ExceptionType& e_) {                                                                 \
      for (const char* part_ : {__VA_ARGS__}) {                                                         \
        EXPECT_NE(std::string(e_.what()).find(part_), std::string::npos)                                \
            << "the message of " #stmt " lacks \"" << part_ << "\": " << e_.what();                     \
      }                                                                                                 \
    } catch (const std::exception& e_) {                                                                \
      ADD_FAILURE() << "expected " #ExceptionType " from " #stmt ", got another exception: " << e_.what(); \
    }                                                                                                   \
  } while (false)

Tensor leaf(Tensor t) {
  t.requires_grad_();
  return t;
}

// --- a 2-4-1 network on XOR --------------------------------------------------------------------

struct Net {
  Tensor w1, b1, w2, b2;
  std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
};

/// Xavier-uniform weights from a seeded generator, zero biases.
Net make_net(std::uint64_t seed, descent::DType dtype) {
  descent::Generator gen(seed);
  auto init = [&](std::int64_t fan_in, std::int64_t fan_out) {
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    return leaf(descent::rand({fan_in, fan_out}, gen, dtype) * (2 * bound) - bound);
  };
  Net net;
  net.w1 = init(2, 4);
  net.b1 = leaf(descent::zeros({4}, dtype));
  net.w2 = init(4, 1);
  net.b2 = leaf(descent::zeros({1}, dtype));
  return net;
}

Tensor xor_loss(const Net& net) {
  const descent::DType dtype = net.w1.dtype();
  static const std::vector<double> xs = {0, 0, 0, 1, 1, 0, 1, 1}, ys = {0, 1, 1, 0};
  const Tensor x = descent::tensor(xs, {4, 2}, dtype), y = descent::tensor(ys, {4, 1}, dtype);
  const Tensor hidden = descent::tanh(descent::matmul(x, net.w1) + net.b1);
  const Tensor out = descent::sigmoid(descent::matmul(hidden, net.w2) + net.b2);
  return descent::mean(descent::pow(out - y, 2.0));
}

using Factory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

struct ConvergenceCase {
  std::string name;
  Factory make;
  int max_steps;  // step() calls (step(closure) calls for LBFGS)
  bool closure = false;
};

std::vector<ConvergenceCase> convergence_cases() {
  return {
      {"SGD", [](auto p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.5, .momentum = 0.9}); },
       500},
      {"SGD_nesterov",
       [](auto p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.5, .momentum = 0.9, .nesterov = true});
       },
       500},
      {"Adagrad", [](auto p) { return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions{.lr = 0.5}); }, 500},
      {"Adadelta", [](auto p) { return std::make_unique<optim::Adadelta>(p); }, 1000},  // the default lr = 1
      {"RMSprop", [](auto p) { return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions{.lr = 0.01}); }, 500},
      {"RMSprop_centered_momentum",
       [](auto p) {
         return std::make_unique<optim::RMSprop>(
             p, optim::RMSpropOptions{.lr = 0.005, .momentum = 0.5, .centered = true});
       },
       500},
      {"Adam", [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05}); }, 500},
      {"Adam_amsgrad",
       [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05, .amsgrad = true}); }, 500},
      {"AdamW", [](auto p) { return std::make_unique<optim::AdamW>(p, optim::AdamWOptions{.lr = 0.05}); }, 500},
      {"Adamax", [](auto p) { return std::make_unique<optim::Adamax>(p, optim::AdamaxOptions{.lr = 0.1}); }, 500},
      {"NAdam", [](auto p) { return std::make_unique<optim::NAdam>(p, optim::NAdamOptions{.lr = 0.05}); }, 500},
      // without a line search, steps of lr 0.5 or 1 saturate the sigmoid on this start; 0.2 does not
      {"LBFGS", [](auto p) { return std::make_unique<optim::LBFGS>(p, optim::LBFGSOptions{.lr = 0.2}); }, 50, true},
      {"LBFGS_strong_wolfe",
       [](auto p) {
         return std::make_unique<optim::LBFGS>(p, optim::LBFGSOptions{.line_search_fn = "strong_wolfe"});
       },
       50, true},
  };
}

TEST(OptimConvergence, XorWithEveryOptimizer) {
  for (const ConvergenceCase& c : convergence_cases()) {
    SCOPED_TRACE(c.name);
    const Net net = make_net(42, descent::kFloat32);
    std::unique_ptr<optim::Optimizer> opt = c.make(net.params());
    auto closure = [&] {
      opt->zero_grad();
      Tensor loss = xor_loss(net);
      loss.backward();
      return loss;
    };
    double loss = 1;
    int steps = 0;
    while (steps < c.max_steps && loss >= 0.01) {
      loss = opt->step(closure).item();
      ++steps;
    }
    loss = xor_loss(net).item();
    EXPECT_LT(loss, 0.01) << c.name << " after " << steps << " steps";
  }
}

// y = X w + b with known w and b: each optimizer finds them.
TEST(OptimConvergence, LinearRegressionRecoversWeights) {
  descent::Generator gen(7);
  const Tensor x = descent::randn({64, 3}, gen, descent::kFloat64);
  const Tensor w_true = descent::tensor({2.0, -3.0, 0.5}, {3, 1}, descent::kFloat64);
  const double b_true = 1.25;
  const Tensor y = descent::matmul(x, w_true) + b_true;

  struct Case {
    std::string name;
    Factory make;
    int steps;
    bool closure;
  };
  const std::vector<Case> cases = {
      {"SGD", [](auto p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.1, .momentum = 0.5}); },
       300, false},
      {"Adam", [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.1}); }, 600, false},
      {"Adagrad", [](auto p) { return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions{.lr = 0.5}); }, 500,
       false},
      {"NAdam", [](auto p) { return std::make_unique<optim::NAdam>(p, optim::NAdamOptions{.lr = 0.1}); }, 600, false},
      {"LBFGS",
       [](auto p) { return std::make_unique<optim::LBFGS>(p, optim::LBFGSOptions{.line_search_fn = "strong_wolfe"}); },
       5, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor w = leaf(descent::zeros({3, 1}, descent::kFloat64));
    Tensor b = leaf(descent::zeros({1}, descent::kFloat64));
    std::unique_ptr<optim::Optimizer> opt = c.make({w, b});
    auto closure = [&] {
      opt->zero_grad();
      Tensor loss = descent::mean(descent::pow(descent::matmul(x, w) + b - y, 2.0));
      loss.backward();
      return loss;
    };
    for (int k = 0; k < c.steps; ++k) opt->step(closure);
    for (std::int64_t i = 0; i < 3; ++i) EXPECT_NEAR(w.at({i, 0}), w_true.at({i, 0}), 1e-3) << "w[" << i << "]";
    EXPECT_NEAR(b.at({0}), b_true, 1e-3);
  }
}

// --- state dict round trip ---------------------------------------------------------------------

Net clone_net(const Net& net) {
  return {leaf(net.w1.detach().clone()), leaf(net.b1.detach().clone()), leaf(net.w2.detach().clone()),
          leaf(net.b2.detach().clone())};
}

std::vector<double> flat(const Net& net) {
  std::vector<double> out;
  for (const Tensor& t : net.params()) {
    const auto v = t.to_vector<double>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::vector<ConvergenceCase> round_trip_cases() {
  return {
      {"SGD_nesterov",
       [](auto p) {
         return std::make_unique<optim::SGD>(
             p, optim::SGDOptions{.lr = 0.3, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true});
       },
       0},
      {"Adagrad", [](auto p) { return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions{.lr = 0.3, .lr_decay = 0.01}); },
       0},
      {"Adadelta", [](auto p) { return std::make_unique<optim::Adadelta>(p); }, 0},
      {"RMSprop",
       [](auto p) {
         return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
       },
       0},
      {"Adam_amsgrad",
       [](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05, .amsgrad = true}); }, 0},
      {"AdamW", [](auto p) { return std::make_unique<optim::AdamW>(p, optim::AdamWOptions{.lr = 0.05}); }, 0},
      {"Adamax", [](auto p) { return std::make_unique<optim::Adamax>(p); }, 0},
      {"NAdam", [](auto p) { return std::make_unique<optim::NAdam>(p, optim::NAdamOptions{.lr = 0.05}); }, 0},
      {"LBFGS",
       [](auto p) {
         return std::make_unique<optim::LBFGS>(
             p, optim::LBFGSOptions{.max_iter = 3, .history_size = 5, .line_search_fn = "strong_wolfe"});
       },
       0, true},
  };
}

TEST(OptimStateDict, RoundTripReproducesTrainingExactly) {
  for (const ConvergenceCase& c : round_trip_cases()) {
    SCOPED_TRACE(c.name);
    const Net start = make_net(3, descent::kFloat64);
    auto train = [&](optim::Optimizer& opt, const Net& net, int steps) {
      auto closure = [&] {
        opt.zero_grad();
        Tensor loss = xor_loss(net);
        loss.backward();
        return loss;
      };
      for (int k = 0; k < steps; ++k) opt.step(closure);
    };

    // 20 uninterrupted steps
    const Net a = clone_net(start);
    auto opt_a = c.make(a.params());
    train(*opt_a, a, 20);

    // 10 steps, then save the optimizer and the parameters
    const Net b = clone_net(start);
    auto opt_b = c.make(b.params());
    train(*opt_b, b, 10);
    const std::map<std::string, Tensor> saved = opt_b->state_dict();
    const Net saved_params = clone_net(b);
    train(*opt_b, b, 3);  // the saved state dict is a snapshot: later steps do not change it

    // fresh tensors and a fresh optimizer, loaded, then 10 more steps
    const Net c2 = clone_net(saved_params);
    auto opt_c = c.make(c2.params());
    opt_c->load_state_dict(saved);
    train(*opt_c, c2, 10);
    EXPECT_EQ(flat(c2), flat(a)) << "resumed training differs from uninterrupted training";

    // the state dict of the loaded optimizer is the saved one
    auto opt_d = c.make(clone_net(saved_params).params());
    opt_d->load_state_dict(saved);
    const auto again = opt_d->state_dict();
    ASSERT_EQ(again.size(), saved.size());
    for (const auto& [key, value] : saved) {
      ASSERT_TRUE(again.count(key)) << key;
      EXPECT_EQ(again.at(key).shape(), value.shape()) << key;
      if (value.dtype() == descent::kInt64) {
        EXPECT_EQ(again.at(key).to_vector<std::int64_t>(), value.to_vector<std::int64_t>()) << key;
      } else {
        EXPECT_EQ(again.at(key).to_vector<double>(), value.to_vector<double>()) << key;
      }
    }
  }
}

// The float32 instantiation of every update follows the float64 one.
TEST(OptimStep, Float32FollowsFloat64) {
  for (const ConvergenceCase& c : round_trip_cases()) {
    SCOPED_TRACE(c.name);
    const Net net64 = make_net(11, descent::kFloat64);
    // the same (float32-representable) starting values in both dtypes
    const Net net32 = {leaf(net64.w1.detach().to(descent::kFloat32)), leaf(net64.b1.detach().to(descent::kFloat32)),
                       leaf(net64.w2.detach().to(descent::kFloat32)), leaf(net64.b2.detach().to(descent::kFloat32))};
    const Net start64 = {leaf(net32.w1.detach().to(descent::kFloat64)), leaf(net32.b1.detach().to(descent::kFloat64)),
                         leaf(net32.w2.detach().to(descent::kFloat64)), leaf(net32.b2.detach().to(descent::kFloat64))};
    auto opt32 = c.make(net32.params());
    auto opt64 = c.make(start64.params());
    for (auto [net, opt] : {std::pair{&net32, opt32.get()}, std::pair{&start64, opt64.get()}}) {
      for (int k = 0; k < 5; ++k) {
        opt->step([&, net = net, opt = opt] {
          opt->zero_grad();
          Tensor loss = xor_loss(*net);
          loss.backward();
          return loss;
        });
      }
    }
    const std::vector<double> a = flat(net32), b = flat(start64);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 + 1e-3 * std::abs(b[i])) << "value " << i;
  }
}

// Above the parallel grain the update is split across threads; every element still gets exactly
// the update it gets alone.
TEST(OptimStep, LargeParametersMatchSmallOnes) {
  const std::int64_t n = 40000, parts = 4;  // n above kernels::kParallelGrain (32768), parts below
  descent::Generator gen(9);
  const Tensor values = descent::randn({n}, gen, descent::kFloat64);
  Tensor big = leaf(values.clone());
  std::vector<Tensor> small;
  for (std::int64_t k = 0; k < parts; ++k) small.push_back(leaf(values.slice(0, k * n / parts, (k + 1) * n / parts).contiguous()));
  optim::Adam opt_big({big}, {.lr = 0.01, .weight_decay = 0.1, .amsgrad = true});
  optim::Adam opt_small(small, {.lr = 0.01, .weight_decay = 0.1, .amsgrad = true});
  for (int step = 0; step < 3; ++step) {
    opt_big.zero_grad();
    opt_small.zero_grad();
    descent::sum(descent::pow(big, 3.0)).backward();
    for (const Tensor& s : small) descent::sum(descent::pow(s, 3.0)).backward();
    opt_big.step();
    opt_small.step();
  }
  std::vector<double> joined;
  for (const Tensor& s : small) {
    const auto v = s.to_vector<double>();
    joined.insert(joined.end(), v.begin(), v.end());
  }
  EXPECT_EQ(big.to_vector<double>(), joined);
}

// Adam without weight decay or amsgrad runs a vectorized loop (with an AVX2 clone on x86); the
// general loop must give the same bits. With a constant gradient v only grows, so amsgrad's
// max(v_max, v) is v and Adam(amsgrad) takes the general loop through the same arithmetic.
TEST(OptimStep, AdamFastLoopMatchesGeneralLoopBitForBit) {
  for (descent::DType dtype : {descent::kFloat32, descent::kFloat64}) {
    const std::int64_t n = 40003;  // above the parallel grain, and not a multiple of any vector width
    descent::Generator gen(10);
    const Tensor values = descent::randn({n}, gen, dtype);
    const Tensor grad = descent::randn({n}, gen, dtype);
    Tensor fast = leaf(values.clone()), general = leaf(values.clone());
    optim::Adam opt_fast({fast}, {.lr = 0.01});
    optim::Adam opt_general({general}, {.lr = 0.01, .amsgrad = true});
    for (int step = 0; step < 4; ++step) {
      fast.set_grad(grad.clone());
      general.set_grad(grad.clone());
      opt_fast.step();
      opt_general.step();
    }
    EXPECT_EQ(fast.to_vector<double>(), general.to_vector<double>()) << descent::dtype_name(dtype);
    EXPECT_NE(fast.to_vector<double>(), values.to_vector<double>());
  }
}

TEST(OptimStateDict, KeysFollowPyTorch) {
  const Net net = make_net(1, descent::kFloat64);
  optim::Adam opt({{.params = {net.w1, net.b1}}, {.params = {net.w2, net.b2}, .options = {{"lr", 0.01}}}},
                  {.lr = 0.1, .amsgrad = true});
  for (int k = 0; k < 3; ++k) {
    opt.zero_grad();
    xor_loss(net).backward();
    opt.step();
  }
  const auto sd = opt.state_dict();
  EXPECT_EQ(sd.at("param_groups.0.lr").dim(), 0);
  EXPECT_EQ(sd.at("param_groups.0.lr").dtype(), descent::kFloat64);
  EXPECT_DOUBLE_EQ(sd.at("param_groups.0.lr").item(), 0.1);
  EXPECT_DOUBLE_EQ(sd.at("param_groups.1.lr").item(), 0.01);
  EXPECT_EQ(sd.at("param_groups.1.betas").shape(), descent::Shape({2}));
  EXPECT_DOUBLE_EQ(sd.at("param_groups.1.amsgrad").item(), 1.0);
  EXPECT_EQ(sd.at("param_groups.1.params").to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(sd.at("state.3.step").dim(), 0);
  EXPECT_DOUBLE_EQ(sd.at("state.3.step").item(), 3.0);
  EXPECT_EQ(sd.at("state.2.exp_avg").shape(), net.w2.shape());
  EXPECT_EQ(sd.at("state.2.max_exp_avg_sq").shape(), net.w2.shape());
  EXPECT_EQ(sd.count("state.4.step"), 0u);
  // State lives by position: (group 1, index 1) is the fourth parameter.
  ASSERT_TRUE(opt.state(1, 1).has_value());
  EXPECT_EQ(opt.state(1, 1)->step, 3.0);
}

TEST(OptimStateDict, RejectsMissingUnexpectedAndMisshapedKeys) {
  const Net net = make_net(1, descent::kFloat64);
  optim::Adam opt(net.params(), {.lr = 0.1});
  opt.zero_grad();
  xor_loss(net).backward();
  opt.step();
  const auto good = opt.state_dict();

  auto missing = good;
  missing.erase("state.0.exp_avg");
  EXPECT_THROW_MSG(opt.load_state_dict(missing), descent::ValueError, "Adam.load_state_dict", "missing",
                   "\"state.0.exp_avg\"");
  auto missing_option = good;
  missing_option.erase("param_groups.0.eps");
  EXPECT_THROW_MSG(opt.load_state_dict(missing_option), descent::ValueError, "missing", "\"param_groups.0.eps\"");

  auto unexpected = good;
  unexpected["state.0.momentum_buffer"] = descent::zeros({2, 4}, descent::kFloat64);
  unexpected["state.9.step"] = descent::scalar_tensor(1, descent::kFloat64);
  EXPECT_THROW_MSG(opt.load_state_dict(unexpected), descent::ValueError, "unexpected", "\"state.0.momentum_buffer\"",
                   "\"state.9.step\"");

  auto misshaped = good;
  misshaped["state.1.exp_avg_sq"] = descent::zeros({3}, descent::kFloat64);
  EXPECT_THROW_MSG(opt.load_state_dict(misshaped), descent::ShapeError, "\"state.1.exp_avg_sq\"", "[3]", "[4]");
  auto bad_scalar = good;
  bad_scalar["state.0.step"] = descent::zeros({2}, descent::kFloat64);
  EXPECT_THROW_MSG(opt.load_state_dict(bad_scalar), descent::ShapeError, "\"state.0.step\"", "[2]");

  auto bad_option = good;
  bad_option["param_groups.0.betas"] = descent::tensor({1.5, 0.9}, {2}, descent::kFloat64);
  EXPECT_THROW_MSG(opt.load_state_dict(bad_option), descent::ValueError, "beta parameter at index 0", "1.5");

  auto bad_groups = good;
  bad_groups["param_groups.0.params"] = descent::tensor_int64({0, 1, 2}, {3});
  EXPECT_THROW_MSG(opt.load_state_dict(bad_groups), descent::ValueError, "param_groups.0.params");

  // Another optimizer's state dict: SGD's keys are not Adam's.
  optim::SGD sgd(make_net(2, descent::kFloat64).params(), {.lr = 0.1, .momentum = 0.9});
  EXPECT_THROW_MSG(sgd.load_state_dict(good), descent::ValueError, "SGD.load_state_dict", "missing",
                   "\"param_groups.0.momentum\"", "unexpected", "\"param_groups.0.betas\"");

  // A failed load changes nothing.
  const auto before = opt.state_dict();
  EXPECT_THROW(opt.load_state_dict(misshaped), descent::ShapeError);
  const auto after = opt.state_dict();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [key, value] : before) EXPECT_EQ(after.at(key).to_vector<double>(), value.to_vector<double>()) << key;
}

// --- options, groups, zero_grad --------------------------------------------------------------------

TEST(OptimGroups, GroupOptionsDefaultToTheOptimizers) {
  const Net net = make_net(1, descent::kFloat64);
  optim::SGD opt({{.params = {net.w1, net.w2}}, {.params = {net.b1, net.b2}, .options = {{"lr", 0.01}, {"nesterov", false}}}},
                 {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  ASSERT_EQ(opt.num_param_groups(), 2u);
  EXPECT_EQ(opt.lr(0), 0.1);
  EXPECT_EQ(opt.lr(1), 0.01);
  EXPECT_EQ(opt.options(1).momentum, 0.9);
  EXPECT_TRUE(opt.options(0).nesterov);
  EXPECT_FALSE(opt.options(1).nesterov);
  EXPECT_EQ(opt.params(1).size(), 2u);
  EXPECT_TRUE(opt.params(1)[0].is_same(net.b1));

  opt.set_lr(1, 0.5);
  EXPECT_EQ(opt.lr(1), 0.5);
  opt.set_option(0, "momentum", 0.8);
  EXPECT_EQ(std::get<double>(opt.option(0, "momentum")), 0.8);
  EXPECT_TRUE(opt.has_option("dampening"));
  EXPECT_FALSE(opt.has_option("betas"));
  EXPECT_THROW_MSG((opt.set_lr(0, -1.0)), descent::ValueError, "SGD", "learning rate", "-1");
  EXPECT_EQ(opt.lr(0), 0.1) << "a rejected option leaves the old value";
  EXPECT_THROW_MSG((opt.option(0, "betas")), descent::ValueError, "unknown option 'betas'");
  EXPECT_THROW_MSG((opt.set_option(0, "momentum", true)), descent::ValueError, "'momentum'", "a number", "a bool");
}

TEST(OptimGroups, EachGroupUsesItsOwnLearningRate) {
  Tensor a = leaf(descent::ones({3}, descent::kFloat64));
  Tensor b = leaf(descent::ones({3}, descent::kFloat64));
  optim::SGD opt({{.params = {a}}, {.params = {b}, .options = {{"lr", 0.5}}}}, {.lr = 0.1});
  descent::sum(a + b).backward();
  opt.step();
  EXPECT_DOUBLE_EQ(a.at({0}), 0.9);
  EXPECT_DOUBLE_EQ(b.at({0}), 0.5);
}

TEST(OptimStep, SkipsParametersWithoutGradient) {
  Tensor a = leaf(descent::ones({2}, descent::kFloat64));
  Tensor b = leaf(descent::ones({2}, descent::kFloat64));
  optim::Adam opt({a, b}, {.lr = 0.1});
  descent::sum(a * 3.0).backward();
  opt.step();
  EXPECT_NE(a.at({0}), 1.0);
  EXPECT_EQ(b.at({0}), 1.0);
  EXPECT_TRUE(opt.state(0, 0).has_value());
  EXPECT_FALSE(opt.state(0, 1).has_value()) << "no state for a parameter that was never updated";
}

TEST(OptimStep, ZeroGradSetsToNoneOrZeroes) {
  Tensor a = leaf(descent::ones({2, 3}));
  optim::SGD opt({a}, {.lr = 0.1});
  descent::sum(a * 2.0).backward();
  ASSERT_TRUE(a.grad().defined());
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(a.grad().shape(), descent::Shape({2, 3}));
  EXPECT_EQ(a.grad().to_vector<double>(), std::vector<double>(6, 0.0));
  descent::sum(a * 2.0).backward();
  EXPECT_EQ(a.grad().at({1, 2}), 2.0);
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(OptimStep, UpdatesNonContiguousParametersInPlace) {
  // A transposed leaf: the update must land in its own (strided) storage.
  descent::Generator gen(5);
  const Tensor base = descent::randn({3, 4}, gen, descent::kFloat64);
  Tensor strided = leaf(base.t().detach());
  ASSERT_FALSE(strided.is_contiguous());
  Tensor dense = leaf(base.t().contiguous().detach());
  optim::Adam opt_s({strided}, {.lr = 0.1}), opt_d({dense}, {.lr = 0.1});
  for (int k = 0; k < 3; ++k) {
    for (auto [p, opt] : {std::pair{strided, &opt_s}, std::pair{dense, &opt_d}}) {
      opt->zero_grad();
      descent::sum(descent::pow(p, 3.0)).backward();
      opt->step();
    }
  }
  EXPECT_EQ(strided.to_vector<double>(), dense.to_vector<double>());
  EXPECT_FALSE(strided.is_contiguous());
}

TEST(OptimStep, StepWithClosureReturnsTheLoss) {
  Tensor a = leaf(descent::ones({2}, descent::kFloat64));
  optim::SGD opt({a}, {.lr = 0.25});
  const Tensor loss = opt.step([&] {
    opt.zero_grad();
    Tensor l = descent::sum(a * a);
    l.backward();
    return l;
  });
  EXPECT_DOUBLE_EQ(loss.item(), 2.0);
  EXPECT_DOUBLE_EQ(a.at({0}), 0.5);  // 1 - 0.25 * 2
}

// --- bad inputs ----------------------------------------------------------------------------------

TEST(OptimErrors, InvalidOptionsNameTheOptimizerAndTheValue) {
  const std::vector<Tensor> p = {leaf(descent::ones({2}))};
  EXPECT_THROW_MSG((optim::SGD(p, {.lr = -0.1})), descent::ValueError, "SGD", "invalid learning rate", "-0.1");
  EXPECT_THROW_MSG((optim::SGD(p, {})), descent::ValueError, "SGD", "learning rate is required");
  EXPECT_THROW_MSG((optim::SGD(p, {.lr = 0.1, .momentum = -0.5})), descent::ValueError, "SGD", "momentum", "-0.5");
  EXPECT_THROW_MSG((optim::SGD(p, {.lr = 0.1, .nesterov = true})), descent::ValueError, "SGD", "Nesterov");
  EXPECT_THROW_MSG((optim::SGD(p, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true})),
                   descent::ValueError, "Nesterov", "zero dampening", "0.1");
  EXPECT_THROW_MSG((optim::Adam(p, {.lr = -1e-3})), descent::ValueError, "Adam", "invalid learning rate", "-0.001");
  EXPECT_THROW_MSG((optim::Adam(p, {.betas = {1.0, 0.999}})), descent::ValueError, "Adam",
                   "invalid beta parameter at index 0", "1");
  EXPECT_THROW_MSG((optim::Adam(p, {.betas = {0.9, -0.1}})), descent::ValueError, "Adam",
                   "invalid beta parameter at index 1", "-0.1");
  EXPECT_THROW_MSG((optim::AdamW(p, {.betas = {0.9, 1.5}})), descent::ValueError, "AdamW", "index 1", "1.5");
  EXPECT_THROW_MSG((optim::Adam(p, {.eps = 0})), descent::ValueError, "Adam", "epsilon", "0");
  EXPECT_THROW_MSG((optim::Adam(p, {.weight_decay = -1})), descent::ValueError, "Adam", "weight_decay", "-1");
  EXPECT_THROW_MSG((optim::Adamax(p, {.betas = {-0.5, 0.9}})), descent::ValueError, "Adamax", "index 0", "-0.5");
  EXPECT_THROW_MSG((optim::NAdam(p, {.momentum_decay = -1})), descent::ValueError, "NAdam", "momentum_decay", "-1");
  EXPECT_THROW_MSG((optim::Adagrad(p, {.lr_decay = -1})), descent::ValueError, "Adagrad", "lr_decay", "-1");
  EXPECT_THROW_MSG((optim::Adagrad(p, {.eps = -1e-10})), descent::ValueError, "Adagrad", "epsilon", "-1e-10");
  EXPECT_THROW_MSG((optim::Adadelta(p, {.rho = 1.5})), descent::ValueError, "Adadelta", "rho", "1.5");
  EXPECT_THROW_MSG((optim::RMSprop(p, {.alpha = -0.1})), descent::ValueError, "RMSprop", "alpha", "-0.1");
  EXPECT_THROW_MSG((optim::RMSprop(p, {.momentum = -1})), descent::ValueError, "RMSprop", "momentum", "-1");
  EXPECT_THROW_MSG((optim::LBFGS(p, {.lr = -1})), descent::ValueError, "LBFGS", "learning rate", "-1");
  EXPECT_THROW_MSG((optim::LBFGS(p, {.history_size = 0})), descent::ValueError, "LBFGS", "history_size", "0");
  EXPECT_THROW_MSG((optim::LBFGS(p, {.line_search_fn = "wolfe"})), descent::ValueError, "LBFGS", "\"wolfe\"");
  // group overrides are validated too, and unknown names rejected
  EXPECT_THROW_MSG((optim::Adam({{.params = p, .options = {{"betas", std::pair{0.9, 1.0}}}}})), descent::ValueError,
                   "Adam", "index 1");
  EXPECT_THROW_MSG((optim::Adam({{.params = p, .options = {{"momentum", 0.9}}}})), descent::ValueError, "Adam",
                   "group 0", "unknown option 'momentum'");
  EXPECT_THROW_MSG((optim::Adam({{.params = p, .options = {{"lr", std::string("fast")}}}})), descent::ValueError,
                   "'lr'", "a number", "a string");
}

TEST(OptimErrors, BadParametersAreRejectedAtConstruction) {
  EXPECT_THROW_MSG((optim::SGD(std::vector<Tensor>{}, {.lr = 0.1})), descent::ValueError, "SGD", "empty parameter list");
  EXPECT_THROW_MSG((optim::SGD({descent::ones({2})}, {.lr = 0.1})), descent::ValueError, "SGD", "does not require grad");
  EXPECT_THROW_MSG((optim::Adam({descent::tensor_int64({1, 2}, {2})})), descent::DTypeError, "Adam", "int64",
                   "floating");
  Tensor a = leaf(descent::ones({2}));
  EXPECT_THROW_MSG(optim::Adam({a * 2.0}), descent::ValueError, "Adam", "not a leaf");
  EXPECT_THROW_MSG((optim::Adam({a, a})), descent::ValueError, "Adam", "more than once");
  EXPECT_THROW_MSG((optim::Adam({{.params = {a}}, {.params = {a}}})), descent::ValueError, "more than once");
  EXPECT_THROW_MSG((optim::LBFGS({a, leaf(descent::ones({2}, descent::kFloat64))})), descent::DTypeError, "LBFGS",
                   "one dtype");
  optim::LBFGS lbfgs({a});
  EXPECT_THROW_MSG(lbfgs.step(), descent::ValueError, "LBFGS", "closure");
}

}  // namespace
