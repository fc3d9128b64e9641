#include "model_builder.h"

#include <charconv>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/autograd/grad_mode.h"
#include "descent/core/error.h"
#include "descent/nn/init.h"
#include "descent/nn/layers.h"
#include "descent/nn/loss.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"

namespace descent::cli {
namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

template <typename T>
bool parse_number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::string expand_activation(const std::string& name) {
  static const std::vector<std::string> known = {"relu", "leaky_relu", "prelu", "elu", "gelu", "sigmoid", "tanh"};
  if (std::find(known.begin(), known.end(), name) == known.end())
    throw ValueError(fmt::format("model.activation: unknown activation '{}' (known: {})", name, fmt::join(known, ", ")));
  return name;
}

// The layer list of a preset.
std::vector<std::string> preset_layers(const Config& config, const std::string& preset, const DataSpec& data) {
  if (preset == "mlp") {
    std::vector<std::string> layers;
    const std::string activation = expand_activation(config.string("model.activation"));
    const double dropout = config.number("model.dropout");
    for (std::int64_t h : config.integers("model.hidden")) {
      if (h <= 0) throw ValueError(fmt::format("model.hidden: layer sizes must be positive, got {}", h));
      layers.push_back(fmt::format("linear {}", h));
      if (config.boolean("model.batch_norm")) layers.push_back("batchnorm");
      layers.push_back(activation);
      if (dropout > 0) layers.push_back(fmt::format("dropout {}", dropout));
    }
    layers.push_back("linear");
    return layers;
  }
  if (preset == "linear_regression") {
    if (data.task != data::Task::Regression)
      throw ValueError("model.preset 'linear_regression' needs data.task = \"regression\" (for classes use logistic_regression)");
    return {"linear"};
  }
  if (preset == "logistic_regression" || preset == "softmax_regression" || preset == "linear_svm") {
    if (data.task != data::Task::Classification)
      throw ValueError(fmt::format("model.preset '{}' needs data.task = \"classification\"", preset));
    return {"linear"};
  }
  throw ValueError(fmt::format(
      "model.preset: unknown preset '{}' (known: mlp, linear_regression, logistic_regression, softmax_regression, linear_svm)",
      preset));
}

LossKind parse_loss(const std::string& name) {
  static const std::vector<std::pair<std::string, LossKind>> names = {
      {"cross_entropy", LossKind::CrossEntropy}, {"mse", LossKind::Mse},       {"l1", LossKind::L1},
      {"huber", LossKind::Huber},                {"smooth_l1", LossKind::SmoothL1},
      {"bce", LossKind::BinaryCrossEntropy},     {"hinge", LossKind::Hinge}, {"multi_margin", LossKind::MultiMargin}};
  for (const auto& [n, k] : names)
    if (n == name) return k;
  throw ValueError(fmt::format("loss.name: unknown loss '{}' (known: cross_entropy, mse, l1, huber, smooth_l1, bce, hinge, multi_margin)", name));
}

LossKind choose_loss(const Config& config, const std::string& preset, const DataSpec& data) {
  const bool binary = data.task == data::Task::Classification && data.num_classes == 2;
  LossKind kind;
  if (config.has("loss.name")) {
    kind = parse_loss(config.string("loss.name"));
  } else if (data.task == data::Task::Regression) {
    kind = LossKind::Mse;
  } else if (preset == "logistic_regression") {
    kind = binary ? LossKind::BinaryCrossEntropy : LossKind::CrossEntropy;
  } else if (preset == "linear_svm") {
    kind = binary ? LossKind::Hinge : LossKind::MultiMargin;
  } else {
    kind = LossKind::CrossEntropy;
  }
  const bool regression_loss = kind == LossKind::Mse || kind == LossKind::L1 || kind == LossKind::Huber || kind == LossKind::SmoothL1;
  if (data.task == data::Task::Regression && !regression_loss)
    throw ValueError(fmt::format("loss.name: '{}' is a classification loss, but data.task is \"regression\"", to_string(kind)));
  if (data.task == data::Task::Classification && regression_loss)
    throw ValueError(fmt::format("loss.name: '{}' is a regression loss, but data.task is \"classification\"", to_string(kind)));
  if ((kind == LossKind::BinaryCrossEntropy || kind == LossKind::Hinge) && !binary)
    throw ValueError(fmt::format("loss.name: '{}' needs two classes, the data has {} (use cross_entropy or multi_margin)",
                                 to_string(kind), data.num_classes));
  return kind;
}

void initialize(nn::Linear& layer, const std::string& scheme, const std::string& next_activation) {
  if (scheme == "default") return;
  Generator& gen = default_generator();
  const std::string nonlinearity = next_activation == "tanh" || next_activation == "sigmoid" || next_activation == "relu" ||
                                           next_activation == "leaky_relu"
                                       ? next_activation
                                       : "linear";
  if (scheme == "xavier_uniform") {
    nn::init::xavier_uniform_(layer.weight(), nn::init::calculate_gain(nonlinearity), gen);
  } else if (scheme == "xavier_normal") {
    nn::init::xavier_normal_(layer.weight(), nn::init::calculate_gain(nonlinearity), gen);
  } else if (scheme == "he_uniform") {
    nn::init::kaiming_uniform_(layer.weight(), 0.0, "fan_in", "relu", gen);
  } else if (scheme == "he_normal") {
    nn::init::kaiming_normal_(layer.weight(), 0.0, "fan_in", "relu", gen);
  } else {
    throw ValueError(fmt::format("model.init: unknown scheme '{}' (known: default, xavier_uniform, xavier_normal, he_uniform, he_normal)", scheme));
  }
  if (layer.bias().defined()) {
    NoGradGuard no_grad;
    nn::init::zeros_(layer.bias());
  }
}

}  // namespace

std::string to_string(LossKind kind) {
  switch (kind) {
    case LossKind::CrossEntropy: return "cross_entropy";
    case LossKind::Mse: return "mse";
    case LossKind::L1: return "l1";
    case LossKind::Huber: return "huber";
    case LossKind::SmoothL1: return "smooth_l1";
    case LossKind::BinaryCrossEntropy: return "bce";
    case LossKind::Hinge: return "hinge";
    case LossKind::MultiMargin: return "multi_margin";
  }
  return "?";
}

BuiltModel build_model(const Config& config, const DataSpec& data) {
  if (config.has("model.preset") && config.has("model.layers"))
    throw ValueError("model: give either model.preset or model.layers, not both");
  const std::string preset = config.has("model.preset") ? config.string("model.preset") : (config.has("model.layers") ? "" : "mlp");

  BuiltModel built;
  built.layers = preset.empty() ? config.strings("model.layers") : preset_layers(config, preset, data);
  built.loss = choose_loss(config, preset, data);
  const bool one_output = built.loss == LossKind::BinaryCrossEntropy || built.loss == LossKind::Hinge;
  built.outputs = data.task == data::Task::Regression ? data.num_targets : (one_output ? 1 : data.num_classes);
  const std::string what_data_needs =
      data.task == data::Task::Regression ? fmt::format("{} target{}", data.num_targets, data.num_targets == 1 ? "" : "s")
      : one_output ? fmt::format("1 for a binary {} loss", to_string(built.loss))
                   : fmt::format("{} classes", data.num_classes);

  if (built.layers.empty()) throw ValueError("model.layers: the list is empty");
  const std::string init = config.string("model.init");
  auto model = std::make_shared<nn::Sequential>();
  Shape shape = data.example_shape;  // the current per-example shape
  std::vector<std::pair<nn::Linear*, std::size_t>> linears;  // to initialize once the next layer is known

  for (std::size_t i = 0; i < built.layers.size(); ++i) {
    const std::string& text = built.layers[i];
    const auto words = split_words(text);
    const std::string where = fmt::format("model.layers[{}] '{}'", i, text);
    if (words.empty()) throw ValueError(fmt::format("{}: empty layer", where));
    const std::string& kind = words[0];
    auto arg_double = [&](std::size_t k, double fallback) {
      if (words.size() <= k) return fallback;
      double v;
      if (!parse_number(words[k], v)) throw ValueError(fmt::format("{}: '{}' is not a number", where, words[k]));
      return v;
    };
    auto max_args = [&](std::size_t n) {
      if (words.size() > n + 1) throw ValueError(fmt::format("{}: too many arguments", where));
    };
    auto features = [&]() -> std::int64_t {
      if (shape.size() != 1)
        throw ValueError(fmt::format("{}: needs one feature dimension per example, the input here is {}", where, fmt::join(shape, "x")));
      return shape[0];
    };

    if (kind == "linear") {
      max_args(2);
      if (shape.size() != 1) {  // images: flatten first, as the user means
        model->push_back(std::make_shared<nn::Flatten>());
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        shape = {n};
      }
      std::int64_t out = 0;
      bool bias = true;
      if (words.size() >= 2 && words[1] != "nobias") {
        if (!parse_number(words[1], out) || out <= 0)
          throw ValueError(fmt::format("{}: the size must be a positive integer, got '{}'", where, words[1]));
      } else if (i + 1 == built.layers.size()) {
        out = built.outputs;
      } else {
        throw ValueError(fmt::format("{}: give the number of outputs (only the last linear layer may omit it)", where));
      }
      if (words.back() == "nobias") bias = false;
      auto layer = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = shape[0], .out_features = out, .bias = bias});
      linears.emplace_back(layer.get(), i);
      model->push_back(layer);
      shape = {out};
    } else if (kind == "relu") {
      max_args(0);
      model->push_back(std::make_shared<nn::ReLU>());
    } else if (kind == "leaky_relu") {
      max_args(1);
      model->push_back(std::make_shared<nn::LeakyReLU>(nn::LeakyReLUOptions{.negative_slope = arg_double(1, 0.01)}));
    } else if (kind == "prelu") {
      max_args(0);
      model->push_back(std::make_shared<nn::PReLU>());
    } else if (kind == "elu") {
      max_args(1);
      model->push_back(std::make_shared<nn::ELU>(nn::ELUOptions{.alpha = arg_double(1, 1.0)}));
    } else if (kind == "gelu") {
      max_args(0);
      model->push_back(std::make_shared<nn::GELU>());
    } else if (kind == "sigmoid") {
      max_args(0);
      model->push_back(std::make_shared<nn::Sigmoid>());
    } else if (kind == "tanh") {
      max_args(0);
      model->push_back(std::make_shared<nn::Tanh>());
    } else if (kind == "dropout") {
      max_args(1);
      const double p = arg_double(1, 0.5);
      if (p < 0 || p >= 1) throw ValueError(fmt::format("{}: the probability must be in [0, 1), got {}", where, p));
      model->push_back(std::make_shared<nn::Dropout>(nn::DropoutOptions{.p = p}));
    } else if (kind == "batchnorm") {
      max_args(0);
      model->push_back(std::make_shared<nn::BatchNorm1d>(nn::BatchNorm1dOptions{.num_features = features()}));
    } else if (kind == "layernorm") {
      max_args(0);
      model->push_back(std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = shape}));
    } else if (kind == "flatten") {
      max_args(0);
      model->push_back(std::make_shared<nn::Flatten>());
      std::int64_t n = 1;
      for (auto d : shape) n *= d;
      shape = {n};
    } else {
      throw ValueError(fmt::format(
          "{}: unknown layer '{}' (known: linear N, relu, leaky_relu [slope], prelu, elu [alpha], gelu, sigmoid, tanh, "
          "dropout p, batchnorm, layernorm, flatten)",
          where, kind));
    }
  }

  if (shape != Shape{built.outputs})
    throw ValueError(fmt::format("model.layers[{}] '{}': the model ends with {} outputs per example, the data needs {}",
                                 built.layers.size() - 1, built.layers.back(), fmt::join(shape, "x"), what_data_needs));

  for (auto [layer, index] : linears) {
    std::string next;
    for (std::size_t j = index + 1; j < built.layers.size(); ++j) {
      auto w = split_words(built.layers[j]);
      if (w[0] == "linear") break;
      if (w[0] != "dropout" && w[0] != "batchnorm" && w[0] != "layernorm") {
        next = w[0];
        break;
      }
    }
    initialize(*layer, init, next);
  }
  built.model = model;
  return built;
}

train::LossFunction make_loss(const Config& config, LossKind kind) {
  const double smoothing = config.number("loss.label_smoothing");
  const double delta = config.number("loss.delta");
  const double margin = config.number("loss.margin");
  switch (kind) {
    case LossKind::CrossEntropy:
      return [smoothing](const Tensor& out, const Tensor& y) { return cross_entropy(out, y, {.label_smoothing = smoothing}); };
    case LossKind::Mse:
      return [](const Tensor& out, const Tensor& y) { return mse_loss(out, y.reshape(out.shape())); };
    case LossKind::L1:
      return [](const Tensor& out, const Tensor& y) { return l1_loss(out, y.reshape(out.shape())); };
    case LossKind::Huber:
      return [delta](const Tensor& out, const Tensor& y) { return huber_loss(out, y.reshape(out.shape()), Reduction::Mean, delta); };
    case LossKind::SmoothL1:
      return [delta](const Tensor& out, const Tensor& y) { return smooth_l1_loss(out, y.reshape(out.shape()), Reduction::Mean, delta); };
    case LossKind::BinaryCrossEntropy:
      return [](const Tensor& out, const Tensor& y) {
        return binary_cross_entropy_with_logits(out.reshape({-1}), y.to(out.dtype()).reshape({-1}));
      };
    case LossKind::Hinge:
      // The linear SVM's hinge: mean(max(0, margin - t * f(x))) with t = 2y - 1 in {-1, +1}.
      return [margin](const Tensor& out, const Tensor& y) {
        const Tensor t = y.to(out.dtype()).reshape({-1}) * 2.0 - 1.0;
        return mean(relu(margin - t * out.reshape({-1})));
      };
    case LossKind::MultiMargin:
      return [margin](const Tensor& out, const Tensor& y) { return multi_margin_loss(out, y, {.margin = margin}); };
  }
  throw ValueError("unknown loss");
}

}  // namespace descent::cli
