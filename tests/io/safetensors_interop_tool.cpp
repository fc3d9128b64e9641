// descent's half of the PyTorch interop test (tests/io/safetensors_interop.sh drives it, and
// tools/safetensors_interop.py is the PyTorch half):
//
//   safetensors_interop_tool write DIR   writes descent_model.safetensors (an MLP's state dict, its
//                                        architecture in the metadata), descent_io.safetensors (an input
//                                        and the model's output) and descent_dtypes.safetensors with the
//                                        expected values in descent_dtypes.json
//   safetensors_interop_tool read DIR    reads torch_model/torch_io/torch_dtypes written by PyTorch and
//                                        checks that descent computes PyTorch's output and reads every
//                                        value exactly
//
// Exits 0 when everything agrees, 1 with a message per disagreement otherwise.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "descent/autograd/grad_mode.h"
#include "descent/core/generator.h"
#include "descent/io/atomic_file.h"
#include "descent/io/checkpoint.h"
#include "descent/io/safetensors.h"
#include "descent/nn/activation.h"
#include "descent/nn/linear.h"
#include "descent/nn/sequential.h"

namespace {

using descent::Tensor;
using nlohmann::json;
namespace fs = std::filesystem;

int failures = 0;

void fail(const std::string& what) {
  std::cerr << "MISMATCH: " << what << "\n";
  ++failures;
}

/// The layers, as the Python side describes them: [{"type": "Linear", "in": 5, "out": 16}, {"type": "Tanh"}, ...].
std::shared_ptr<descent::nn::Sequential> build(const json& layers) {
  auto model = std::make_shared<descent::nn::Sequential>();
  for (const json& layer : layers) {
    const std::string type = layer.at("type");
    if (type == "Linear") {
      model->push_back(descent::nn::Linear({.in_features = layer.at("in"), .out_features = layer.at("out")}));
    } else if (type == "Tanh") {
      model->push_back(descent::nn::Tanh());
    } else if (type == "ReLU") {
      model->push_back(descent::nn::ReLU());
    } else if (type == "Sigmoid") {
      model->push_back(descent::nn::Sigmoid());
    } else {
      throw std::runtime_error("unknown layer type " + type);
    }
  }
  return model;
}

/// A float as JSON; NaN and infinities as strings, since JSON has no such numbers.
json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json describe(const Tensor& t) {
  json values = json::array();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    if (t.dtype() == descent::kInt64) {
      values.push_back(t.contiguous().data_ptr<std::int64_t>()[i]);
    } else {
      values.push_back(number(t.flat(i)));
    }
  }
  const char* dtype = t.dtype() == descent::kFloat32 ? "F32" : t.dtype() == descent::kFloat64 ? "F64" : "I64";
  return {{"dtype", dtype}, {"shape", t.shape()}, {"values", values}};
}

void write(const fs::path& dir) {
  const json layers = json::array({{{"type", "Linear"}, {"in", 5}, {"out", 16}},
                                   {{"type", "Tanh"}},
                                   {{"type", "Linear"}, {"in", 16}, {"out", 8}},
                                   {{"type", "ReLU"}},
                                   {{"type", "Linear"}, {"in", 8}, {"out", 3}}});
  descent::manual_seed(2024);
  auto model = build(layers);
  descent::Generator gen(7);
  const Tensor input = descent::randn({7, 5}, gen);
  Tensor output;
  {
    descent::NoGradGuard no_grad;
    output = (*model)(input);
  }
  descent::io::save_safetensors(dir / "descent_model.safetensors", descent::io::map_of(model->state_dict()),
                                {{"format", "pt"}, {"layers", layers.dump()}});
  descent::io::save_safetensors(dir / "descent_io.safetensors", {{"input", input}, {"output", output}});

  // every dtype and the awkward shapes and layouts
  const double inf = std::numeric_limits<double>::infinity();
  Tensor specials = descent::tensor({0.0, -0.0, inf, -inf, std::nan(""), 1e-40, 3.4e38, -1.5}, {8});
  Tensor grid = descent::arange(0, 24, 1, descent::kFloat64).reshape({2, 3, 4});
  const std::map<std::string, Tensor> tensors = {
      {"f32_specials", specials},
      {"f64_permuted", grid.permute({2, 0, 1})},  // saved from a non-contiguous view
      {"f64_scalar", descent::scalar_tensor(-2.25, descent::kFloat64)},
      {"i64_extremes",
       descent::tensor_int64(
           {std::numeric_limits<std::int64_t>::min(), -1, 0, 1, std::numeric_limits<std::int64_t>::max(), 42}, {3, 2})},
      {"i64_column", descent::tensor_int64({1, 2, 3, 4, 5, 6}, {2, 3}).select(1, 1)},
      {"f32_empty", descent::zeros({0, 3})},
      {"f32_expanded", descent::tensor({1, 2}, {2, 1}).expand({2, 3})},
  };
  descent::io::save_safetensors(dir / "descent_dtypes.safetensors", tensors, {{"written_by", "descent"}});
  json expected = json::object();
  for (const auto& [name, t] : tensors) expected[name] = describe(t);
  descent::io::write_file_atomically(dir / "descent_dtypes.json", expected.dump(1));
  std::cout << "descent wrote " << dir << "\n";
}

/// True when got (read by descent) is exactly the expected value.
bool same(double got, const json& want) {
  if (want.is_string()) {
    const std::string s = want;
    if (s == "nan") return std::isnan(got);
    return s == "inf" ? got == std::numeric_limits<double>::infinity()
                      : got == -std::numeric_limits<double>::infinity();
  }
  const double w = want.get<double>();
  return got == w && std::signbit(got) == std::signbit(w);
}

void read(const fs::path& dir) {
  // the model PyTorch trained... well, initialized; and its output on PyTorch's input
  const auto weights = descent::io::load_safetensors(dir / "torch_model.safetensors");
  auto model = build(json::parse(weights.metadata.at("layers")));
  model->load_state_dict(descent::nn::StateDict(weights.tensors));
  const auto io = descent::io::load_safetensors(dir / "torch_io.safetensors");
  Tensor output;
  {
    descent::NoGradGuard no_grad;
    output = (*model)(io.tensors.at("input"));
  }
  const Tensor want = io.tensors.at("output");
  if (output.shape() != want.shape()) fail("output shape differs");
  for (std::int64_t i = 0; i < want.numel() && output.shape() == want.shape(); ++i) {
    if (std::abs(output.flat(i) - want.flat(i)) > 1e-5) {
      fail("output element " + std::to_string(i) + ": descent " + std::to_string(output.flat(i)) + " vs torch " +
           std::to_string(want.flat(i)));
    }
  }

  const auto dtypes = descent::io::load_safetensors(dir / "torch_dtypes.safetensors");
  const json expected = json::parse(descent::io::read_file(dir / "torch_dtypes.json"));
  for (const auto& [name, spec] : expected.items()) {
    auto it = dtypes.tensors.find(name);
    if (it == dtypes.tensors.end()) {
      fail(name + ": missing");
      continue;
    }
    const Tensor& t = it->second;
    const std::string file_dtype = spec.at("dtype");
    const bool floating = file_dtype[0] == 'F' || file_dtype == "BF16";
    const auto want_dtype = file_dtype == "F64" ? descent::kFloat64 : floating ? descent::kFloat32 : descent::kInt64;
    if (t.dtype() != want_dtype) fail(name + ": read as " + std::string(descent::dtype_name(t.dtype())));
    if (t.shape() != spec.at("shape").get<descent::Shape>()) fail(name + ": shape differs");
    const json& values = spec.at("values");
    if (static_cast<std::int64_t>(values.size()) != t.numel()) {
      fail(name + ": element count differs");
      continue;
    }
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      const json& v = values[static_cast<std::size_t>(i)];
      const bool ok = t.dtype() == descent::kInt64 ? t.contiguous().data_ptr<std::int64_t>()[i] == v.get<std::int64_t>()
                                                   : same(t.flat(i), v);
      if (!ok)
        fail(name + " element " + std::to_string(i) + ": descent read " + std::to_string(t.flat(i)) + ", torch wrote " +
             v.dump());
    }
  }
  if (dtypes.metadata.at("written_by") != "torch") fail("metadata lost");
  std::cout << "descent read " << expected.size() << " tensors and the model written by PyTorch\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "write" && std::string(argv[1]) != "read")) {
    std::cerr << "usage: safetensors_interop_tool write|read DIR\n";
    return 2;
  }
  try {
    if (std::string(argv[1]) == "write") {
      write(argv[2]);
    } else {
      read(argv[2]);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
