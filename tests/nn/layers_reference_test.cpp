// Compares every layer of descent::nn against PyTorch: tests/reference/nn.json (written by
// tools/gen_reference_nn.py) holds each layer's options, the parameter and buffer values to load,
// a sequence of steps (training or evaluation mode, input, upstream gradient) and PyTorch's output,
// input gradient, parameter gradients and buffers after each step, in float32 and float64.
// The module is built from the options, converted with to(dtype), filled with load_state_dict
// (whose keys must be PyTorch's, in PyTorch's order), and run step by step; values must match
// within rtol 1e-10 (+ atol 1e-12) in float64 and rtol 1e-5 (+ atol 1e-6) in float32.

#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using descent::DType;
using descent::Shape;
using descent::Tensor;
using json = nlohmann::json;
namespace nn = descent::nn;

Shape shape_of(const json& j) { return j.at("shape").get<Shape>(); }

Tensor float_tensor(const json& j, DType dtype) {
  return descent::tensor(j.at("values").get<std::vector<double>>(), shape_of(j), dtype);
}

// A Size2d option: a number (both dims) or [h, w], as PyTorch's int-or-tuple arguments.
descent::Size2d size2d(const json& j) {
  if (j.is_number_integer()) return descent::Size2d(j.get<std::int64_t>());
  if (!j.is_array() || j.size() != 2) throw std::invalid_argument("layers_reference_test: bad Size2d " + j.dump());
  return descent::Size2d(j[0].get<std::int64_t>(), j[1].get<std::int64_t>());
}
std::optional<descent::Size2d> optional_size2d(const json& j) {
  return j.is_null() ? std::nullopt : std::optional(size2d(j));
}
std::optional<double> optional_double(const json& j) {
  return j.is_null() ? std::nullopt : std::optional(j.get<double>());
}

nn::BatchNormOptions batch_norm_options(const json& o) {
  return nn::BatchNormOptions{.num_features = o.at("num_features").get<std::int64_t>(),
                              .eps = o.at("eps").get<double>(),
                              .momentum = optional_double(o.at("momentum")),
                              .affine = o.at("affine").get<bool>(),
                              .track_running_stats = o.at("track_running_stats").get<bool>()};
}

// --- the layer factory: descent's class name and options -> a module ------------------------------

std::shared_ptr<nn::Module> build(const std::string& layer, const json& o) {
  if (layer == "Linear") {
    return std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = o.at("in_features").get<std::int64_t>(),
                                                          .out_features = o.at("out_features").get<std::int64_t>(),
                                                          .bias = o.at("bias").get<bool>()});
  }
  if (layer == "Flatten") {
    return std::make_shared<nn::Flatten>(
        nn::FlattenOptions{.start_dim = o.at("start_dim").get<std::int64_t>(), .end_dim = o.at("end_dim").get<std::int64_t>()});
  }
  if (layer == "Dropout") return std::make_shared<nn::Dropout>(nn::DropoutOptions{.p = o.at("p").get<double>()});
  if (layer == "BatchNorm1d") return std::make_shared<nn::BatchNorm1d>(batch_norm_options(o));
  if (layer == "BatchNorm2d") return std::make_shared<nn::BatchNorm2d>(batch_norm_options(o));
  if (layer == "Dropout2d") return std::make_shared<nn::Dropout2d>(nn::DropoutOptions{.p = o.at("p").get<double>()});
  if (layer == "Conv2d") {
    return std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = o.at("in_channels").get<std::int64_t>(),
                                                          .out_channels = o.at("out_channels").get<std::int64_t>(),
                                                          .kernel_size = size2d(o.at("kernel_size")),
                                                          .stride = size2d(o.at("stride")),
                                                          .padding = size2d(o.at("padding")),
                                                          .dilation = size2d(o.at("dilation")),
                                                          .groups = o.at("groups").get<std::int64_t>(),
                                                          .bias = o.at("bias").get<bool>()});
  }
  if (layer == "MaxPool2d") {
    return std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions{.kernel_size = size2d(o.at("kernel_size")),
                                                                .stride = optional_size2d(o.at("stride")),
                                                                .padding = size2d(o.at("padding")),
                                                                .dilation = size2d(o.at("dilation")),
                                                                .ceil_mode = o.at("ceil_mode").get<bool>()});
  }
  if (layer == "AvgPool2d") {
    const json& divisor = o.at("divisor_override");
    return std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions{
        .kernel_size = size2d(o.at("kernel_size")),
        .stride = optional_size2d(o.at("stride")),
        .padding = size2d(o.at("padding")),
        .ceil_mode = o.at("ceil_mode").get<bool>(),
        .count_include_pad = o.at("count_include_pad").get<bool>(),
        .divisor_override = divisor.is_null() ? std::nullopt : std::optional(divisor.get<std::int64_t>())});
  }
  if (layer == "AdaptiveAvgPool2d") {
    return std::make_shared<nn::AdaptiveAvgPool2d>(
        nn::AdaptiveAvgPool2dOptions{.output_size = size2d(o.at("output_size"))});
  }
  if (layer == "LayerNorm") {
    return std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = o.at("normalized_shape").get<Shape>(),
                                                                .eps = o.at("eps").get<double>(),
                                                                .elementwise_affine = o.at("elementwise_affine").get<bool>(),
                                                                .bias = o.at("bias").get<bool>()});
  }
  if (layer == "ReLU") return std::make_shared<nn::ReLU>();
  if (layer == "LeakyReLU") {
    return std::make_shared<nn::LeakyReLU>(nn::LeakyReLUOptions{.negative_slope = o.at("negative_slope").get<double>()});
  }
  if (layer == "PReLU") {
    return std::make_shared<nn::PReLU>(nn::PReLUOptions{.num_parameters = o.at("num_parameters").get<std::int64_t>(),
                                                        .init = o.at("init").get<double>()});
  }
  if (layer == "ELU") return std::make_shared<nn::ELU>(nn::ELUOptions{.alpha = o.at("alpha").get<double>()});
  if (layer == "GELU") {
    return std::make_shared<nn::GELU>(nn::GELUOptions{.approximate = o.at("approximate").get<std::string>()});
  }
  if (layer == "Sigmoid") return std::make_shared<nn::Sigmoid>();
  if (layer == "Tanh") return std::make_shared<nn::Tanh>();
  if (layer == "Softmax") return std::make_shared<nn::Softmax>(nn::SoftmaxOptions{.dim = o.at("dim").get<std::int64_t>()});
  if (layer == "LogSoftmax") {
    return std::make_shared<nn::LogSoftmax>(nn::LogSoftmaxOptions{.dim = o.at("dim").get<std::int64_t>()});
  }
  if (layer == "Identity") return std::make_shared<nn::Identity>();
  if (layer == "Sequential") {
    auto seq = std::make_shared<nn::Sequential>();
    for (const json& sub : o.at("layers")) seq->push_back(build(sub.at("layer").get<std::string>(), sub.at("options")));
    return seq;
  }
  throw std::invalid_argument("layers_reference_test: unknown layer " + layer);
}

// --- the fixture ----------------------------------------------------------------------------------

struct Fixture {
  json cases = json::array();
  std::string error;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    const std::string path = std::string(DESCENT_REFERENCE_DIR) + "/nn.json";
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
  std::size_t index;
  std::string name, layer, dtype;
};

void PrintTo(const RefParam& p, std::ostream* os) { *os << p.name << " (" << p.layer << ", " << p.dtype << ")"; }

std::vector<RefParam> params() {
  std::vector<RefParam> out;
  const json& cases = fixture().cases;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    for (const char* dtype : {"float32", "float64"}) {
      out.push_back({i, cases[i].value("name", "unnamed"), cases[i].value("layer", "?"), dtype});
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

struct Tolerance {
  double rtol, atol;
};

testing::AssertionResult matches(const std::string& what, const Tensor& got, const json& want, Tolerance tol) {
  if (!got.defined()) return testing::AssertionFailure() << what << ": descent gave an undefined tensor";
  if (got.shape() != shape_of(want)) {
    return testing::AssertionFailure() << what << ": shape " << descent::to_string(got.shape()) << ", PyTorch "
                                       << descent::to_string(shape_of(want));
  }
  const std::vector<double> g = got.to_vector<double>();
  const json& values = want.at("values");
  std::ostringstream bad;
  bad.precision(17);
  int mismatches = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double w = values[i].get<double>();
    const bool ok = std::isfinite(g[i]) && std::abs(g[i] - w) <= tol.rtol * std::abs(w) + tol.atol;
    if (!ok && mismatches++ < 8) {
      bad << "\n  [" << i << "] descent " << g[i] << ", PyTorch " << w << " (diff " << std::abs(g[i] - w) << ")";
    }
  }
  if (mismatches > 0) {
    return testing::AssertionFailure() << what << ": " << mismatches << " of " << g.size()
                                       << " values differ from PyTorch" << bad.str();
  }
  return testing::AssertionSuccess();
}

class LayerReferenceTest : public testing::TestWithParam<RefParam> {};

TEST_P(LayerReferenceTest, MatchesPyTorch) {
  const RefParam& param = GetParam();
  const json& c = fixture().cases.at(param.index);
  SCOPED_TRACE("case " + param.name + ", " + param.layer + ", " + param.dtype);
  const DType dtype = param.dtype == "float32" ? descent::kFloat32 : descent::kFloat64;
  const Tolerance tol = dtype == descent::kFloat32 ? Tolerance{1e-5, 1e-6} : Tolerance{1e-10, 1e-12};

  std::shared_ptr<nn::Module> module;
  ASSERT_NO_THROW(module = build(param.layer, c.at("options")));
  module->to(dtype);

  // The state dict has PyTorch's keys in PyTorch's order.
  EXPECT_EQ(module->state_dict().keys(), c.at("state_keys").get<std::vector<std::string>>());
  nn::StateDict state;
  for (const auto& [key, entry] : c.at("state").items()) {
    state.insert(key, entry.at("dtype") == "int64"
                          ? descent::tensor_int64(entry.at("values").get<std::vector<std::int64_t>>(), shape_of(entry))
                          : float_tensor(entry, dtype));
  }
  ASSERT_NO_THROW(module->load_state_dict(state));

  const json& steps = c.at("steps");
  const json& results = c.at("results").at(param.dtype);
  ASSERT_EQ(steps.size(), results.size());
  for (std::size_t s = 0; s < steps.size(); ++s) {
    SCOPED_TRACE("step " + std::to_string(s));
    const json& step = steps[s];
    const json& want = results[s];
    module->train(step.at("train").get<bool>());
    module->zero_grad();

    // A transposed input is the transpose of a contiguous leaf (a strided view).
    const bool transposed = step.at("input").value("layout", "") == "transposed";
    Tensor leaf = float_tensor(step.at("input"), dtype);
    if (transposed) leaf = leaf.transpose(-2, -1).contiguous();
    leaf.requires_grad_();
    const Tensor input = transposed ? leaf.transpose(-2, -1) : leaf;
    if (transposed) ASSERT_FALSE(input.is_contiguous());

    Tensor output;
    try {
      output = (*module)(input);
    } catch (const std::exception& e) {
      FAIL() << "forward threw: " << e.what();
    }
    EXPECT_TRUE(matches("output", output, want.at("output"), tol));
    EXPECT_EQ(output.dtype(), dtype);
    try {
      output.backward(float_tensor(step.at("grad_output"), dtype));
    } catch (const std::exception& e) {
      FAIL() << "backward threw: " << e.what();
    }
    const Tensor gx = transposed ? leaf.grad().transpose(-2, -1) : leaf.grad();
    EXPECT_TRUE(matches("input gradient", gx, want.at("input_grad"), tol));

    const auto named = module->named_parameters();
    ASSERT_EQ(named.size(), want.at("param_grads").size()) << "number of parameters";
    for (const auto& [key, p] : named) {
      ASSERT_TRUE(want.at("param_grads").contains(key)) << "PyTorch has no parameter " << key;
      EXPECT_EQ(p.dtype(), dtype) << key;
      EXPECT_TRUE(matches("gradient of " + key, p.grad(), want.at("param_grads").at(key), tol));
    }
    const auto buffers = module->named_buffers();
    ASSERT_EQ(buffers.size(), want.at("buffers").size()) << "number of buffers";
    for (const auto& [key, b] : buffers) {
      ASSERT_TRUE(want.at("buffers").contains(key)) << "PyTorch has no buffer " << key;
      const json& wb = want.at("buffers").at(key);
      if (wb.at("dtype") == "int64") {
        EXPECT_EQ(b.dtype(), descent::kInt64) << key;
        EXPECT_EQ(b.to_vector<std::int64_t>(), wb.at("values").get<std::vector<std::int64_t>>()) << key;
      } else {
        EXPECT_EQ(b.dtype(), dtype) << key;
        EXPECT_TRUE(matches("buffer " + key, b, wb, tol));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, LayerReferenceTest, testing::ValuesIn(params()), param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LayerReferenceTest);

// Every layer of descent::nn has at least one case.
TEST(LayerReferenceFixture, CoversEveryLayer) {
  ASSERT_TRUE(fixture().error.empty()) << fixture().error;
  std::map<std::string, int> per_layer;
  const std::function<void(const std::string&, const json&)> count = [&](const std::string& layer, const json& o) {
    ++per_layer[layer];
    if (layer == "Sequential") {
      for (const json& sub : o.at("layers")) count(sub.at("layer").get<std::string>(), sub.at("options"));
    }
  };
  for (const json& c : fixture().cases) count(c.at("layer").get<std::string>(), c.at("options"));
  for (const char* layer : {"Linear", "Flatten", "Dropout", "BatchNorm1d", "LayerNorm", "ReLU", "LeakyReLU", "PReLU",
                            "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Identity", "Sequential",
                            "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d"}) {
    EXPECT_GT(per_layer[layer], 0) << layer << " has no case in nn.json";
  }
}

}  // namespace
