// Compares every op against PyTorch: tests/reference/ops.json holds inputs, an upstream gradient,
// and PyTorch's forward outputs and input gradients in float32 and float64 (written by
// tools/gen_reference.py). Each case runs in both dtypes with inputs that require grad; outputs and
// gradients must match within rtol 1e-5 (+ atol 1e-6) in float32 and rtol 1e-10 (+ atol 1e-12) in
// float64, with exactly equal shapes.
//
// Deliberate differences from PyTorch that the fixture encodes: comparisons (eq, gt, ...) return
// 1/0 in the input's dtype (descent has no bool dtype), and where's condition is passed to descent
// as a floating tensor holding 1/0.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using descent::DType;
using descent::Shape;
using descent::Tensor;
using json = nlohmann::json;

using OpFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&, const json&)>;

std::vector<std::int64_t> ints(const json& j) { return j.get<std::vector<std::int64_t>>(); }
std::optional<double> opt(const json& j) { return j.is_null() ? std::nullopt : std::optional<double>(j.get<double>()); }
Tensor int64_tensor(const json& j) {
  return descent::tensor_int64(j.at("values").get<std::vector<std::int64_t>>(), ints(j.at("shape")));
}
std::vector<Tensor> one(Tensor t) { return {std::move(t)}; }
double num(const json& p, const char* key) { return p.at(key).get<double>(); }
std::int64_t i64(const json& p, const char* key) { return p.at(key).get<std::int64_t>(); }
bool flag(const json& p, const char* key) { return p.at(key).get<bool>(); }

// A (height, width) argument: [h, w] or one number for both.
descent::Size2d size2d(const json& j) {
  if (j.is_number_integer()) return descent::Size2d(j.get<std::int64_t>());
  return descent::Size2d(j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>());
}
std::optional<descent::Size2d> opt_size2d(const json& j) {
  return j.is_null() ? std::nullopt : std::optional<descent::Size2d>(size2d(j));
}
descent::Conv2dParams conv2d_params(const json& p) {
  return {.stride = size2d(p.at("stride")),
          .padding = size2d(p.at("padding")),
          .dilation = size2d(p.at("dilation")),
          .groups = i64(p, "groups")};
}
descent::MaxPool2dParams max_pool2d_params(const json& p) {
  return {.kernel_size = size2d(p.at("kernel_size")),
          .stride = opt_size2d(p.at("stride")),
          .padding = size2d(p.at("padding")),
          .dilation = size2d(p.at("dilation")),
          .ceil_mode = flag(p, "ceil_mode")};
}
descent::AvgPool2dParams avg_pool2d_params(const json& p) {
  const json& divisor = p.at("divisor_override");
  return {.kernel_size = size2d(p.at("kernel_size")),
          .stride = opt_size2d(p.at("stride")),
          .padding = size2d(p.at("padding")),
          .ceil_mode = flag(p, "ceil_mode"),
          .count_include_pad = flag(p, "count_include_pad"),
          .divisor_override = divisor.is_null() ? std::nullopt : std::optional<std::int64_t>(divisor.get<std::int64_t>())};
}

// PyTorch op name -> descent call. Names carry ATen-style overload suffixes where one name has
// several forms ("add" is tensor + tensor, "add.Scalar" tensor + double).
const std::map<std::string, OpFn>& op_table() {
  static const std::map<std::string, OpFn> table = {
      // elementwise
      {"add", [](auto& x, auto& p) { return one(descent::add(x[0], x[1], num(p, "alpha"))); }},
      {"sub", [](auto& x, auto& p) { return one(descent::sub(x[0], x[1], num(p, "alpha"))); }},
      {"mul", [](auto& x, auto&) { return one(descent::mul(x[0], x[1])); }},
      {"div", [](auto& x, auto&) { return one(descent::div(x[0], x[1])); }},
      {"add.Scalar", [](auto& x, auto& p) { return one(descent::add(x[0], num(p, "other"))); }},
      {"sub.Scalar", [](auto& x, auto& p) { return one(descent::sub(x[0], num(p, "other"))); }},
      {"mul.Scalar", [](auto& x, auto& p) { return one(descent::mul(x[0], num(p, "other"))); }},
      {"div.Scalar", [](auto& x, auto& p) { return one(descent::div(x[0], num(p, "other"))); }},
      {"rsub.Scalar", [](auto& x, auto& p) { return one(descent::rsub(x[0], num(p, "other"))); }},
      {"rdiv.Scalar", [](auto& x, auto& p) { return one(descent::rdiv(x[0], num(p, "other"))); }},
      {"neg", [](auto& x, auto&) { return one(descent::neg(x[0])); }},
      {"pow.Tensor_Scalar", [](auto& x, auto& p) { return one(descent::pow(x[0], num(p, "exponent"))); }},
      {"pow.Tensor_Tensor", [](auto& x, auto&) { return one(descent::pow(x[0], x[1])); }},
      {"exp", [](auto& x, auto&) { return one(descent::exp(x[0])); }},
      {"sin", [](auto& x, auto&) { return one(descent::sin(x[0])); }},
      {"cos", [](auto& x, auto&) { return one(descent::cos(x[0])); }},
      {"log", [](auto& x, auto&) { return one(descent::log(x[0])); }},
      {"sqrt", [](auto& x, auto&) { return one(descent::sqrt(x[0])); }},
      {"abs", [](auto& x, auto&) { return one(descent::abs(x[0])); }},
      {"clamp", [](auto& x, auto& p) { return one(descent::clamp(x[0], opt(p.at("min")), opt(p.at("max")))); }},
      {"where", [](auto& x, auto&) { return one(descent::where(x[0], x[1], x[2])); }},
      {"eq", [](auto& x, auto&) { return one(descent::eq(x[0], x[1])); }},
      {"gt", [](auto& x, auto&) { return one(descent::gt(x[0], x[1])); }},
      {"lt", [](auto& x, auto&) { return one(descent::lt(x[0], x[1])); }},
      {"ge", [](auto& x, auto&) { return one(descent::ge(x[0], x[1])); }},
      {"le", [](auto& x, auto&) { return one(descent::le(x[0], x[1])); }},
      {"gt.Scalar", [](auto& x, auto& p) { return one(descent::gt(x[0], num(p, "other"))); }},
      {"lt.Scalar", [](auto& x, auto& p) { return one(descent::lt(x[0], num(p, "other"))); }},
      // linalg
      {"matmul", [](auto& x, auto&) { return one(descent::matmul(x[0], x[1])); }},
      {"linear",
       [](auto& x, auto&) { return one(x.size() > 2 ? descent::linear(x[0], x[1], x[2]) : descent::linear(x[0], x[1])); }},
      // reductions
      {"sum", [](auto& x, auto&) { return one(descent::sum(x[0])); }},
      {"sum.dim", [](auto& x, auto& p) { return one(descent::sum(x[0], ints(p.at("dims")), flag(p, "keepdim"))); }},
      {"mean", [](auto& x, auto&) { return one(descent::mean(x[0])); }},
      {"mean.dim", [](auto& x, auto& p) { return one(descent::mean(x[0], ints(p.at("dims")), flag(p, "keepdim"))); }},
      {"max", [](auto& x, auto&) { return one(descent::max(x[0])); }},
      {"min", [](auto& x, auto&) { return one(descent::min(x[0])); }},
      {"max.dim",
       [](auto& x, auto& p) {
         auto r = descent::max(x[0], i64(p, "dim"), flag(p, "keepdim"));
         return std::vector<Tensor>{r.values, r.indices};
       }},
      {"min.dim",
       [](auto& x, auto& p) {
         auto r = descent::min(x[0], i64(p, "dim"), flag(p, "keepdim"));
         return std::vector<Tensor>{r.values, r.indices};
       }},
      {"amax", [](auto& x, auto& p) { return one(descent::amax(x[0], ints(p.at("dims")), flag(p, "keepdim"))); }},
      {"amin", [](auto& x, auto& p) { return one(descent::amin(x[0], ints(p.at("dims")), flag(p, "keepdim"))); }},
      {"argmax", [](auto& x, auto& p) { return one(descent::argmax(x[0], i64(p, "dim"), flag(p, "keepdim"))); }},
      {"argmin", [](auto& x, auto& p) { return one(descent::argmin(x[0], i64(p, "dim"), flag(p, "keepdim"))); }},
      {"var",
       [](auto& x, auto& p) {
         return one(descent::var(x[0], ints(p.at("dims")), num(p, "correction"), flag(p, "keepdim")));
       }},
      {"logsumexp",
       [](auto& x, auto& p) { return one(descent::logsumexp(x[0], ints(p.at("dims")), flag(p, "keepdim"))); }},
      {"sum_to_size", [](auto& x, auto& p) { return one(descent::sum_to(x[0], ints(p.at("size")))); }},
      // shape ops
      {"reshape", [](auto& x, auto& p) { return one(descent::reshape(x[0], ints(p.at("shape")))); }},
      {"view", [](auto& x, auto& p) { return one(descent::view(x[0], ints(p.at("shape")))); }},
      {"flatten", [](auto& x, auto& p) { return one(descent::flatten(x[0], i64(p, "start_dim"), i64(p, "end_dim"))); }},
      {"transpose", [](auto& x, auto& p) { return one(descent::transpose(x[0], i64(p, "dim0"), i64(p, "dim1"))); }},
      {"permute", [](auto& x, auto& p) { return one(descent::permute(x[0], ints(p.at("dims")))); }},
      {"squeeze", [](auto& x, auto&) { return one(descent::squeeze(x[0])); }},
      {"squeeze.dim", [](auto& x, auto& p) { return one(descent::squeeze(x[0], i64(p, "dim"))); }},
      {"unsqueeze", [](auto& x, auto& p) { return one(descent::unsqueeze(x[0], i64(p, "dim"))); }},
      {"expand", [](auto& x, auto& p) { return one(descent::expand(x[0], ints(p.at("shape")))); }},
      {"slice",
       [](auto& x, auto& p) {
         return one(descent::slice(x[0], i64(p, "dim"), i64(p, "start"), i64(p, "end"), i64(p, "step")));
       }},
      {"select", [](auto& x, auto& p) { return one(descent::select(x[0], i64(p, "dim"), i64(p, "index"))); }},
      {"cat", [](auto& x, auto& p) { return one(descent::cat(x, i64(p, "dim"))); }},
      {"stack", [](auto& x, auto& p) { return one(descent::stack(x, i64(p, "dim"))); }},
      {"index_select",
       [](auto& x, auto& p) {
         const auto index = p.at("index").template get<std::vector<std::int64_t>>();
         const Shape shape{static_cast<std::int64_t>(index.size())};
         return one(descent::index_select(x[0], i64(p, "dim"), descent::tensor_int64(index, shape)));
       }},
      {"gather",
       [](auto& x, auto& p) { return one(descent::gather(x[0], i64(p, "dim"), int64_tensor(p.at("index")))); }},
      {"clone", [](auto& x, auto&) { return one(descent::clone(x[0])); }},
      // x.transpose(dim0, dim1).contiguous(): a real copy of a non-contiguous view.
      {"contiguous",
       [](auto& x, auto& p) {
         return one(descent::contiguous(descent::transpose(x[0], i64(p, "dim0"), i64(p, "dim1"))));
       }},
      // to the other floating dtype
      {"to",
       [](auto& x, auto&) {
         return one(descent::to(x[0], x[0].dtype() == descent::kFloat32 ? descent::kFloat64 : descent::kFloat32));
       }},
      // activations
      {"relu", [](auto& x, auto&) { return one(descent::relu(x[0])); }},
      {"leaky_relu", [](auto& x, auto& p) { return one(descent::leaky_relu(x[0], num(p, "negative_slope"))); }},
      {"prelu", [](auto& x, auto&) { return one(descent::prelu(x[0], x[1])); }},
      {"elu", [](auto& x, auto& p) { return one(descent::elu(x[0], num(p, "alpha"))); }},
      {"gelu",
       [](auto& x, auto& p) { return one(descent::gelu(x[0], p.at("approximate").template get<std::string>())); }},
      {"sigmoid", [](auto& x, auto&) { return one(descent::sigmoid(x[0])); }},
      {"tanh", [](auto& x, auto&) { return one(descent::tanh(x[0])); }},
      {"softplus", [](auto& x, auto& p) { return one(descent::softplus(x[0], num(p, "beta"), num(p, "threshold"))); }},
      {"softmax", [](auto& x, auto& p) { return one(descent::softmax(x[0], i64(p, "dim"))); }},
      {"log_softmax", [](auto& x, auto& p) { return one(descent::log_softmax(x[0], i64(p, "dim"))); }},
      // convolution and pooling
      {"conv2d",
       [](auto& x, auto& p) {
         return one(descent::conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), conv2d_params(p)));
       }},
      {"max_pool2d", [](auto& x, auto& p) { return one(descent::max_pool2d(x[0], max_pool2d_params(p))); }},
      {"max_pool2d_with_indices",
       [](auto& x, auto& p) {
         auto [values, indices] = descent::max_pool2d_with_indices(x[0], max_pool2d_params(p));
         return std::vector<Tensor>{values, indices};
       }},
      {"avg_pool2d", [](auto& x, auto& p) { return one(descent::avg_pool2d(x[0], avg_pool2d_params(p))); }},
      {"adaptive_avg_pool2d",
       [](auto& x, auto& p) { return one(descent::adaptive_avg_pool2d(x[0], size2d(p.at("output_size")))); }},
      // batch_norm: inputs x, [running_mean, running_var] (updated in place and returned as outputs
      // 1 and 2), [weight, bias].
      {"batch_norm",
       [](auto& x, auto& p) {
         const bool running = flag(p, "running");
         const bool affine = flag(p, "affine");
         const Tensor rm = running ? x[1] : Tensor();
         const Tensor rv = running ? x[2] : Tensor();
         const Tensor w = affine ? x[x.size() - 2] : Tensor();
         const Tensor b = affine ? x[x.size() - 1] : Tensor();
         Tensor y = descent::batch_norm(x[0], rm, rv, w, b, flag(p, "training"), num(p, "momentum"), num(p, "eps"));
         return running ? std::vector<Tensor>{y, rm, rv} : one(y);
       }},
  };
  return table;
}

// --- the fixture --------------------------------------------------------------------------------

struct Fixture {
  json cases = json::array();
  std::string error;  // why loading failed, if it did
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    const std::string path = std::string(DESCENT_REFERENCE_DIR) + "/ops.json";
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

struct RefParam {
  std::size_t index;  // into fixture().cases
  std::string name, op, dtype;
};

// Printed by gtest in place of the bytes of the struct.
void PrintTo(const RefParam& p, std::ostream* os) { *os << p.name << " (op " << p.op << ", " << p.dtype << ")"; }

std::vector<RefParam> params() {
  std::vector<RefParam> out;
  const json& cases = fixture().cases;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    for (const char* dtype : {"float32", "float64"}) {
      out.push_back({i, cases[i].value("name", "unnamed"), cases[i].value("op", "?"), dtype});
    }
  }
  return out;
}

std::string param_name(const testing::TestParamInfo<RefParam>& info) {
  std::string name = info.param.name + "_" + info.param.dtype;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// --- comparison ---------------------------------------------------------------------------------

struct Tolerance {
  double rtol, atol;
};

Shape shape_of(const json& j) { return ints(j.at("shape")); }

testing::AssertionResult matches(const std::string& what, const Tensor& got, const json& want, Tolerance tol,
                                 bool integral) {
  if (!got.defined()) return testing::AssertionFailure() << what << ": descent gave an undefined tensor";
  const Shape want_shape = shape_of(want);
  if (got.shape() != want_shape) {
    return testing::AssertionFailure() << what << ": shape " << descent::to_string(got.shape()) << ", PyTorch "
                                       << descent::to_string(want_shape);
  }
  const json& values = want.at("values");
  if (static_cast<std::int64_t>(values.size()) != got.numel()) {
    return testing::AssertionFailure() << what << ": the fixture has " << values.size() << " values for shape "
                                       << descent::to_string(want_shape);
  }
  std::ostringstream bad;
  int mismatches = 0;
  if (integral) {
    const std::vector<std::int64_t> g = got.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < g.size(); ++i) {
      const auto w = values[i].get<std::int64_t>();
      if (g[i] != w && mismatches++ < 8) bad << "\n  [" << i << "] descent " << g[i] << ", PyTorch " << w;
    }
  } else {
    const std::vector<double> g = got.to_vector<double>();
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double w = values[i].get<double>();
      const bool ok = std::isfinite(g[i]) && std::abs(g[i] - w) <= tol.rtol * std::abs(w) + tol.atol;
      if (!ok && mismatches++ < 8) {
        bad.precision(17);
        bad << "\n  [" << i << "] descent " << g[i] << ", PyTorch " << w << " (diff " << std::abs(g[i] - w)
            << ", allowed " << tol.rtol * std::abs(w) + tol.atol << ")";
      }
    }
  }
  if (mismatches > 0) {
    return testing::AssertionFailure() << what << ": " << mismatches << " of " << got.numel()
                                       << " values differ from PyTorch" << bad.str();
  }
  return testing::AssertionSuccess();
}

class ReferenceOpTest : public testing::TestWithParam<RefParam> {};

TEST_P(ReferenceOpTest, MatchesPyTorch) {
  const RefParam& param = GetParam();
  const json& c = fixture().cases.at(param.index);
  SCOPED_TRACE("case " + param.name + ", op " + param.op + ", " + param.dtype +
               (c.contains("float32_reference")
                    ? " (float32 reference: " + c["float32_reference"].get<std::string>() + ")"
                    : std::string()));
  const auto& table = op_table();
  const auto it = table.find(param.op);
  ASSERT_NE(it, table.end()) << "op " << param.op << " of case " << param.name << " is not in the test's op table";

  const DType dtype = param.dtype == "float32" ? descent::kFloat32 : descent::kFloat64;
  const Tolerance tol = dtype == descent::kFloat32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-10, 1e-12};

  // Inputs: "float" in the run's dtype (leaves that require grad where the fixture says so),
  // "bool" as 1/0 in the run's dtype, "int64" as indices. Layout "transposed": the leaf is a
  // contiguous tensor with the last two dims swapped and the op gets its transpose (a strided view).
  std::vector<Tensor> inputs, leaves;
  std::vector<bool> transposed;
  for (const json& in : c.at("inputs")) {
    const std::string kind = in.at("dtype").get<std::string>();
    transposed.push_back(in.value("layout", "") == "transposed");
    if (kind == "int64") {
      inputs.push_back(int64_tensor(in));
      leaves.push_back(inputs.back());
      continue;
    }
    Tensor t = descent::tensor(in.at("values").get<std::vector<double>>(), shape_of(in), dtype);
    if (transposed.back()) t = descent::transpose(t, -2, -1).contiguous();
    if (kind == "float" && in.at("requires_grad").get<bool>()) t.requires_grad_();
    leaves.push_back(t);
    inputs.push_back(transposed.back() ? descent::transpose(t, -2, -1) : t);
    if (transposed.back()) ASSERT_FALSE(inputs.back().is_contiguous()) << "a transposed input should be strided";
  }

  std::vector<Tensor> outputs;
  try {
    outputs = it->second(inputs, c.at("params"));
  } catch (const std::exception& e) {
    FAIL() << "forward threw: " << e.what();
  }

  const json& result = c.at("results").at(param.dtype);
  const json& want_outputs = result.at("outputs");
  ASSERT_EQ(outputs.size(), want_outputs.size()) << "number of outputs";
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const std::string want_dtype = want_outputs[k].at("dtype").get<std::string>();
    const std::string what = "output " + std::to_string(k);
    ASSERT_TRUE(outputs[k].defined()) << what << " is undefined";
    EXPECT_EQ(std::string(descent::dtype_name(outputs[k].dtype())), want_dtype) << what << " dtype";
    if (std::string(descent::dtype_name(outputs[k].dtype())) != want_dtype) continue;
    EXPECT_TRUE(matches(what, outputs[k], want_outputs[k], tol, want_dtype == "int64"));
  }

  const json& grad_output = c.at("grad_output");
  const json& want_grads = result.at("grads");
  ASSERT_EQ(want_grads.size(), inputs.size());
  if (grad_output.is_null()) {
    for (std::size_t k = 0; k < inputs.size(); ++k) EXPECT_TRUE(want_grads[k].is_null());
    return;
  }
  ASSERT_TRUE(outputs[0].requires_grad()) << "output 0 does not require grad, but PyTorch's does";
  try {
    const Tensor g =
        descent::tensor(grad_output.at("values").get<std::vector<double>>(), shape_of(grad_output), outputs[0].dtype());
    outputs[0].backward(g);
  } catch (const std::exception& e) {
    FAIL() << "backward threw: " << e.what();
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const std::string what = "gradient of input " + std::to_string(k);
    if (want_grads[k].is_null()) continue;
    const Tensor grad = leaves[k].grad();
    ASSERT_TRUE(grad.defined()) << what << " is undefined after backward";
    EXPECT_EQ(grad.dtype(), dtype) << what << " dtype";
    // The gradient of a transposed input is that of its leaf, transposed back.
    EXPECT_TRUE(matches(what, transposed[k] ? descent::transpose(grad, -2, -1) : grad, want_grads[k], tol, false));
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, ReferenceOpTest, testing::ValuesIn(params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ReferenceOpTest);

// The fixture covers the whole table, and the table every op of the fixture.
TEST(ReferenceFixture, CoversEveryOp) {
  ASSERT_TRUE(fixture().error.empty()) << fixture().error;
  const json& cases = fixture().cases;
  const auto& table = op_table();
  EXPECT_GE(cases.size(), table.size())
      << "fewer cases than ops: regenerate with /usr/bin/python3 tools/gen_reference.py";
  std::map<std::string, int> per_op;
  std::set<std::string> names;
  for (const json& c : cases) {
    const std::string op = c.at("op").get<std::string>();
    const std::string name = c.at("name").get<std::string>();
    EXPECT_TRUE(names.insert(name).second) << "duplicate case name " << name;
    EXPECT_TRUE(table.count(op)) << "case " << name << " uses op " << op << ", which the test's table lacks";
    ++per_op[op];
  }
  for (const auto& [op, fn] : table) {
    EXPECT_GT(per_op[op], 0) << "op " << op << " has no case in ops.json";
  }
}

}  // namespace
