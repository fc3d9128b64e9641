// Compares every loss against PyTorch 1.13: tests/reference/losses.json (written by
// tools/gen_reference_losses.py) holds inputs, options, an upstream gradient, and PyTorch's loss
// and input (and, where it requires grad, target) gradients in float32 and float64. Each case runs
// in both dtypes; values must match within |a - b| <= 1e-5 |b| + 1e-6 in float32 and
// 1e-10 |b| + 1e-12 in float64, with exactly equal shapes.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using descent::DType;
using descent::Reduction;
using descent::Shape;
using descent::Tensor;
using json = nlohmann::json;

using LossFn = std::function<Tensor(const Tensor& input, const Tensor& target, const json& params, DType dtype)>;

Shape shape_of(const json& j) { return j.at("shape").get<std::vector<std::int64_t>>(); }
double num(const json& p, const char* key) { return p.at(key).get<double>(); }
std::int64_t i64(const json& p, const char* key) { return p.at(key).get<std::int64_t>(); }

Reduction reduction(const json& p) {
  const std::string r = p.at("reduction").get<std::string>();
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  throw std::runtime_error("unknown reduction " + r);
}

descent::KLDivReduction kl_reduction(const json& p) {
  const std::string r = p.at("reduction").get<std::string>();
  if (r == "batchmean") return descent::KLDivReduction::BatchMean;
  if (r == "mean") return descent::KLDivReduction::Mean;
  if (r == "sum") return descent::KLDivReduction::Sum;
  if (r == "none") return descent::KLDivReduction::None;
  throw std::runtime_error("unknown kl_div reduction " + r);
}

// An optional weight parameter ({"shape", "values"}) in the run's dtype; undefined when absent.
Tensor param_tensor(const json& p, const char* key, DType dtype) {
  if (!p.contains(key) || p.at(key).is_null()) return Tensor();
  return descent::tensor(p.at(key).at("values").get<std::vector<double>>(), shape_of(p.at(key)), dtype);
}

// torch.nn.functional name -> descent call.
const std::map<std::string, LossFn>& loss_table() {
  static const std::map<std::string, LossFn> table = {
      {"mse_loss", [](auto& x, auto& y, auto& p, DType) { return descent::mse_loss(x, y, reduction(p)); }},
      {"l1_loss", [](auto& x, auto& y, auto& p, DType) { return descent::l1_loss(x, y, reduction(p)); }},
      {"huber_loss",
       [](auto& x, auto& y, auto& p, DType) { return descent::huber_loss(x, y, reduction(p), num(p, "delta")); }},
      {"smooth_l1_loss",
       [](auto& x, auto& y, auto& p, DType) { return descent::smooth_l1_loss(x, y, reduction(p), num(p, "beta")); }},
      {"cross_entropy",
       [](auto& x, auto& y, auto& p, DType d) {
         return descent::cross_entropy(x, y,
                                       {.reduction = reduction(p),
                                        .weight = param_tensor(p, "weight", d),
                                        .ignore_index = i64(p, "ignore_index"),
                                        .label_smoothing = num(p, "label_smoothing")});
       }},
      {"nll_loss",
       [](auto& x, auto& y, auto& p, DType d) {
         return descent::nll_loss(
             x, y, {.reduction = reduction(p), .weight = param_tensor(p, "weight", d), .ignore_index = i64(p, "ignore_index")});
       }},
      {"binary_cross_entropy",
       [](auto& x, auto& y, auto& p, DType d) {
         return descent::binary_cross_entropy(x, y, {.reduction = reduction(p), .weight = param_tensor(p, "weight", d)});
       }},
      {"binary_cross_entropy_with_logits",
       [](auto& x, auto& y, auto& p, DType d) {
         return descent::binary_cross_entropy_with_logits(x, y,
                                                          {.reduction = reduction(p),
                                                           .weight = param_tensor(p, "weight", d),
                                                           .pos_weight = param_tensor(p, "pos_weight", d)});
       }},
      {"hinge_embedding_loss",
       [](auto& x, auto& y, auto& p, DType) {
         return descent::hinge_embedding_loss(x, y, {.reduction = reduction(p), .margin = num(p, "margin")});
       }},
      {"multi_margin_loss",
       [](auto& x, auto& y, auto& p, DType d) {
         return descent::multi_margin_loss(x, y,
                                           {.reduction = reduction(p),
                                            .p = static_cast<int>(i64(p, "p")),
                                            .margin = num(p, "margin"),
                                            .weight = param_tensor(p, "weight", d)});
       }},
      {"kl_div",
       [](auto& x, auto& y, auto& p, DType) {
         return descent::kl_div(x, y, {.reduction = kl_reduction(p), .log_target = p.at("log_target").template get<bool>()});
       }},
  };
  return table;
}

// --- the fixture --------------------------------------------------------------------------------

struct Fixture {
  json cases = json::array();
  std::string error;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    const std::string path = std::string(DESCENT_REFERENCE_DIR) + "/losses.json";
    std::ifstream in(path);
    if (!in) {
      out.error = "cannot open " + path;
      return out;
    }
    try {
      out.cases = json::parse(in).at("cases");
    } catch (const std::exception& e) {
      out.error = "cannot parse " + path + ": " + e.what();
      out.cases = json::array();
    }
    return out;
  }();
  return f;
}

struct LossParam {
  std::size_t index;
  std::string name, op, dtype;
};

void PrintTo(const LossParam& p, std::ostream* os) { *os << p.name << " (" << p.op << ", " << p.dtype << ")"; }

std::vector<LossParam> params() {
  std::vector<LossParam> out;
  const json& cases = fixture().cases;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    for (const char* dtype : {"float32", "float64"}) {
      out.push_back({i, cases[i].value("name", "unnamed"), cases[i].value("op", "?"), dtype});
    }
  }
  return out;
}

std::string param_name(const testing::TestParamInfo<LossParam>& info) {
  std::string name = info.param.name + "_" + info.param.dtype;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

testing::AssertionResult matches(const std::string& what, const Tensor& got, const json& want, double rtol, double atol) {
  if (!got.defined()) return testing::AssertionFailure() << what << ": descent gave an undefined tensor";
  const Shape want_shape = shape_of(want);
  if (got.shape() != want_shape) {
    return testing::AssertionFailure() << what << ": shape " << descent::to_string(got.shape()) << ", PyTorch "
                                       << descent::to_string(want_shape);
  }
  const json& values = want.at("values");
  if (static_cast<std::int64_t>(values.size()) != got.numel()) {
    return testing::AssertionFailure() << what << ": the fixture has " << values.size() << " values";
  }
  const std::vector<double> g = got.to_vector<double>();
  std::ostringstream bad;
  bad.precision(17);
  int mismatches = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double w = values[i].get<double>();
    const bool ok = std::isfinite(g[i]) && std::abs(g[i] - w) <= rtol * std::abs(w) + atol;
    if (!ok && mismatches++ < 8) {
      bad << "\n  [" << i << "] descent " << g[i] << ", PyTorch " << w << " (diff " << std::abs(g[i] - w)
          << ", allowed " << rtol * std::abs(w) + atol << ")";
    }
  }
  if (mismatches > 0) {
    return testing::AssertionFailure() << what << ": " << mismatches << " of " << got.numel()
                                       << " values differ from PyTorch" << bad.str();
  }
  return testing::AssertionSuccess();
}

class LossReferenceTest : public testing::TestWithParam<LossParam> {};

TEST_P(LossReferenceTest, MatchesPyTorch) {
  const LossParam& param = GetParam();
  const json& c = fixture().cases.at(param.index);
  SCOPED_TRACE("case " + param.name + ", " + param.op + ", " + param.dtype);
  const auto it = loss_table().find(param.op);
  ASSERT_NE(it, loss_table().end()) << "loss " << param.op << " is not in the test's table";
  const DType dtype = param.dtype == "float32" ? descent::kFloat32 : descent::kFloat64;
  const double rtol = dtype == descent::kFloat32 ? 1e-5 : 1e-10;
  const double atol = dtype == descent::kFloat32 ? 1e-6 : 1e-12;

  // Inputs: input, target. "float" in the run's dtype (requiring grad where the fixture says so),
  // "int64" as class indices.
  std::vector<Tensor> inputs;
  for (const json& in : c.at("inputs")) {
    if (in.at("dtype") == "int64") {
      inputs.push_back(descent::tensor_int64(in.at("values").get<std::vector<std::int64_t>>(), shape_of(in)));
      continue;
    }
    Tensor t = descent::tensor(in.at("values").get<std::vector<double>>(), shape_of(in), dtype);
    if (in.at("requires_grad").get<bool>()) t.requires_grad_();
    inputs.push_back(t);
  }
  ASSERT_EQ(inputs.size(), 2u) << "a loss case has an input and a target";

  Tensor loss;
  try {
    loss = it->second(inputs[0], inputs[1], c.at("params"), dtype);
  } catch (const std::exception& e) {
    FAIL() << "forward threw: " << e.what();
  }
  const json& result = c.at("results").at(param.dtype);
  const json& want = result.at("outputs").at(0);
  ASSERT_TRUE(loss.defined());
  EXPECT_EQ(loss.dtype(), dtype) << "loss dtype";
  EXPECT_TRUE(matches("loss", loss, want, rtol, atol));

  ASSERT_TRUE(loss.requires_grad()) << "the loss does not require grad";
  try {
    const json& go = c.at("grad_output");
    loss.backward(descent::tensor(go.at("values").get<std::vector<double>>(), shape_of(go), dtype));
  } catch (const std::exception& e) {
    FAIL() << "backward threw: " << e.what();
  }
  const json& grads = result.at("grads");
  ASSERT_EQ(grads.size(), inputs.size());
  const char* names[] = {"input", "target"};
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (grads[k].is_null()) continue;
    const Tensor g = inputs[k].grad();
    ASSERT_TRUE(g.defined()) << "gradient of the " << names[k] << " is undefined after backward";
    EXPECT_EQ(g.dtype(), dtype);
    EXPECT_TRUE(matches(std::string("gradient of the ") + names[k], g, grads[k], rtol, atol));
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, LossReferenceTest, testing::ValuesIn(params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LossReferenceTest);

// Every loss of the table has cases (with each of its reductions), and every case a loss.
TEST(LossReferenceFixture, CoversEveryLossAndReduction) {
  ASSERT_TRUE(fixture().error.empty()) << fixture().error;
  std::map<std::string, std::set<std::string>> reductions;
  std::set<std::string> names;
  for (const json& c : fixture().cases) {
    const std::string op = c.at("op").get<std::string>();
    const std::string name = c.at("name").get<std::string>();
    EXPECT_TRUE(names.insert(name).second) << "duplicate case name " << name;
    EXPECT_TRUE(loss_table().count(op)) << "case " << name << " uses " << op << ", which the test's table lacks";
    reductions[op].insert(c.at("params").at("reduction").get<std::string>());
  }
  for (const auto& [op, fn] : loss_table()) {
    std::set<std::string> want = {"mean", "sum", "none"};
    if (op == "kl_div") want.insert("batchmean");
    EXPECT_EQ(reductions[op], want) << op << ": regenerate with /usr/bin/python3 tools/gen_reference_losses.py";
  }
}

}  // namespace
