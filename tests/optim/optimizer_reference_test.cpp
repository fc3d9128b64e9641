// Compares every optimizer with torch.optim (1.13): tests/reference/optim.json holds, for each
// optimizer and option variant, the parameters PyTorch reached after 1, 2, 3, 5, 10, 20, ..., 100
// steps in float64 on Rosenbrock's function and on a small tanh network (and, for L-BFGS, after each
// of 5 step(closure) calls). descent must agree within 1e-6 relative (+ 1e-9 absolute) at every
// recorded step. Options are passed by name through ParamGroup overrides, exactly as the fixture
// lists PyTorch's keyword arguments; the defaults of everything not listed must therefore match too.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "optim/reference_fixture.h"

namespace {

using descent::Tensor;
using json = nlohmann::json;
namespace optim = descent::optim;

constexpr double kRtol = 1e-6;
constexpr double kAtol = 1e-9;

Tensor from_spec(const json& j) {
  return descent::tensor(j.at("values").get<std::vector<double>>(), j.at("shape").get<descent::Shape>(),
                         descent::kFloat64);
}

struct Problem {
  std::string name;
  std::vector<Tensor> params;
  Tensor x, target;  // the network's batch
};

Problem make_problem(const std::string& name) {
  const json& p = optim_reference::fixture().root.at("problems").at(name);
  Problem out{name, {}, {}, {}};
  for (const json& spec : p.at("params")) {
    out.params.push_back(from_spec(spec));
    out.params.back().requires_grad_();
  }
  if (name == "mlp") {
    out.x = from_spec(p.at("x"));
    out.target = from_spec(p.at("target"));
  }
  return out;
}

// The same functions as tools/gen_reference_optim.py, written with descent's ops.
Tensor loss_of(const Problem& p) {
  if (p.name == "rosenbrock") {
    const Tensor x = descent::select(p.params[0], 0, 0), y = descent::select(p.params[0], 0, 1);
    return descent::pow(1.0 - x, 2.0) + 100.0 * descent::pow(y - descent::pow(x, 2.0), 2.0);
  }
  const Tensor h = descent::tanh(descent::matmul(p.x, p.params[0]) + p.params[1]);
  const Tensor y = descent::matmul(h, p.params[2]) + p.params[3];
  return descent::mean(descent::pow(y - p.target, 2.0));
}

std::vector<double> flat_params(const Problem& p) {
  std::vector<double> out;
  for (const Tensor& t : p.params) {
    const std::vector<double> v = t.to_vector<double>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

/// PyTorch keyword arguments -> descent option overrides.
std::map<std::string, optim::OptionValue> to_overrides(const json& options) {
  std::map<std::string, optim::OptionValue> out;
  for (const auto& [key, value] : options.items()) {
    if (value.is_boolean()) {
      out[key] = value.get<bool>();
    } else if (value.is_number_integer()) {
      out[key] = value.get<std::int64_t>();
    } else if (value.is_number()) {
      out[key] = value.get<double>();
    } else if (value.is_array() && value.size() == 2) {
      out[key] = std::pair{value[0].get<double>(), value[1].get<double>()};
    } else if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else {
      ADD_FAILURE() << "option " << key << " has a value the test cannot convert: " << value.dump();
    }
  }
  return out;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, std::vector<optim::ParamGroup> groups) {
  if (name == "SGD") return std::make_unique<optim::SGD>(std::move(groups));
  if (name == "Adagrad") return std::make_unique<optim::Adagrad>(std::move(groups));
  if (name == "Adadelta") return std::make_unique<optim::Adadelta>(std::move(groups));
  if (name == "RMSprop") return std::make_unique<optim::RMSprop>(std::move(groups));
  if (name == "Adam") return std::make_unique<optim::Adam>(std::move(groups));
  if (name == "AdamW") return std::make_unique<optim::AdamW>(std::move(groups));
  if (name == "Adamax") return std::make_unique<optim::Adamax>(std::move(groups));
  if (name == "NAdam") return std::make_unique<optim::NAdam>(std::move(groups));
  return nullptr;
}

testing::AssertionResult close(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  if (got.size() != want.size()) {
    return testing::AssertionFailure() << what << ": " << got.size() << " values, PyTorch " << want.size();
  }
  std::ostringstream bad;
  bad.precision(17);
  int mismatches = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double allowed = kRtol * std::abs(want[i]) + kAtol;
    if (!(std::abs(got[i] - want[i]) <= allowed) && mismatches++ < 6) {
      bad << "\n  [" << i << "] descent " << got[i] << ", PyTorch " << want[i] << " (diff " << std::abs(got[i] - want[i])
          << ", allowed " << allowed << ")";
    }
  }
  if (mismatches > 0) return testing::AssertionFailure() << what << ": " << mismatches << " values differ" << bad.str();
  return testing::AssertionSuccess();
}

std::vector<std::size_t> indices(const char* key) {
  std::vector<std::size_t> out(optim_reference::cases(key).size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

template <const char* Key>
std::string case_name(const testing::TestParamInfo<std::size_t>& info) {
  return optim_reference::sanitize(optim_reference::cases(Key).at(info.param).at("name").get<std::string>());
}

constexpr char kOptimizers[] = "optimizers";
constexpr char kLbfgs[] = "lbfgs";

// --- first-order optimizers ---------------------------------------------------------------------

class OptimReference : public testing::TestWithParam<std::size_t> {};

TEST_P(OptimReference, MatchesPyTorch) {
  const json& c = optim_reference::cases(kOptimizers).at(GetParam());
  const std::string name = c.at("optimizer").get<std::string>();
  Problem problem = make_problem(c.at("problem").get<std::string>());
  const double sign = c.at("loss_sign").get<double>();

  std::vector<optim::ParamGroup> groups;
  const auto defaults = to_overrides(c.at("options"));
  if (c.at("groups").is_null()) {
    groups.push_back({problem.params, defaults});
  } else {
    // A group's options default to the optimizer's: merge, the group's winning.
    for (const json& g : c.at("groups")) {
      optim::ParamGroup group{{}, defaults};
      for (const json& i : g.at("params")) group.params.push_back(problem.params.at(i.get<std::size_t>()));
      for (const auto& [key, value] : to_overrides(g.at("options"))) group.options[key] = value;
      groups.push_back(std::move(group));
    }
  }
  std::unique_ptr<optim::Optimizer> opt = make_optimizer(name, std::move(groups));
  ASSERT_NE(opt, nullptr) << "unknown optimizer " << name;

  const auto record = c.at("record").get<std::vector<int>>();
  const json& trajectory = c.at("trajectory");
  ASSERT_EQ(record.size(), trajectory.size());
  std::size_t next = 0;
  for (int k = 1; k <= c.at("steps").get<int>(); ++k) {
    opt->zero_grad();
    const Tensor loss = sign * loss_of(problem);
    loss.backward();
    opt->step();
    if (next < record.size() && record[next] == k) {
      ASSERT_TRUE(close(flat_params(problem), trajectory[next].get<std::vector<double>>(),
                        "parameters after step " + std::to_string(k)));
      ++next;
    }
  }
  EXPECT_EQ(next, record.size());
}

INSTANTIATE_TEST_SUITE_P(Optim, OptimReference, testing::ValuesIn(indices(kOptimizers)), case_name<kOptimizers>);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OptimReference);

// --- L-BFGS -------------------------------------------------------------------------------------

class OptimReferenceLBFGS : public testing::TestWithParam<std::size_t> {};

TEST_P(OptimReferenceLBFGS, MatchesPyTorch) {
  const json& c = optim_reference::cases(kLbfgs).at(GetParam());
  Problem problem = make_problem(c.at("problem").get<std::string>());
  const json& o = c.at("options");
  optim::LBFGSOptions options;
  if (o.contains("lr")) options.lr = o.at("lr").get<double>();
  if (o.contains("max_iter")) options.max_iter = o.at("max_iter").get<std::int64_t>();
  if (o.contains("history_size")) options.history_size = o.at("history_size").get<std::int64_t>();
  if (o.contains("line_search_fn")) options.line_search_fn = o.at("line_search_fn").get<std::string>();
  for (const auto& [key, value] : o.items()) {
    ASSERT_TRUE(key == "lr" || key == "max_iter" || key == "history_size" || key == "line_search_fn")
        << "the test does not pass option " << key;
  }
  optim::LBFGS opt(problem.params, options);
  auto closure = [&] {
    opt.zero_grad();
    Tensor loss = loss_of(problem);
    loss.backward();
    return loss;
  };
  for (int call = 0; call < c.at("calls").get<int>(); ++call) {
    SCOPED_TRACE("step(closure) call " + std::to_string(call + 1));
    const double loss = opt.step(closure).item();
    const double want_loss = c.at("losses")[call].get<double>();
    EXPECT_NEAR(loss, want_loss, kRtol * std::abs(want_loss) + kAtol) << "returned loss";
    ASSERT_TRUE(close(flat_params(problem), c.at("params")[call].get<std::vector<double>>(), "parameters"));
    EXPECT_EQ(opt.state().func_evals, c.at("func_evals")[call].get<double>());
    EXPECT_EQ(opt.state().n_iter, c.at("n_iter")[call].get<double>());
  }
}

INSTANTIATE_TEST_SUITE_P(Optim, OptimReferenceLBFGS, testing::ValuesIn(indices(kLbfgs)), case_name<kLbfgs>);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(OptimReferenceLBFGS);

// The fixture loads and covers every optimizer, with and without parameter groups.
TEST(OptimReferenceFixture, CoversEveryOptimizer) {
  ASSERT_TRUE(optim_reference::fixture().error.empty()) << optim_reference::fixture().error;
  std::map<std::string, int> per_optimizer;
  bool groups = false;
  for (const json& c : optim_reference::cases(kOptimizers)) {
    ++per_optimizer[c.at("optimizer").get<std::string>()];
    groups = groups || !c.at("groups").is_null();
  }
  for (const char* name : {"SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax", "NAdam"}) {
    EXPECT_GE(per_optimizer[name], 4) << name << " has too few reference cases";
  }
  EXPECT_TRUE(groups) << "no case with parameter groups";
  bool strong_wolfe = false;
  for (const json& c : optim_reference::cases(kLbfgs)) {
    strong_wolfe = strong_wolfe || c.at("options").value("line_search_fn", "") == "strong_wolfe";
  }
  EXPECT_GE(optim_reference::cases(kLbfgs).size(), 4u);
  EXPECT_TRUE(strong_wolfe) << "no L-BFGS case with the strong-Wolfe line search";
}

}  // namespace
