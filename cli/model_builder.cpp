#include "model_builder.h"

#include <charconv>
#include <map>
#include <optional>
#include <set>
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
#include "descent/optim/clip.h"

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

// "3" -> (3, 3), "3x2" -> (3, 2); nullopt if not that form or not >= min.
std::optional<Size2d> parse_size2d(const std::string& text, std::int64_t min) {
  const auto x = text.find('x');
  std::int64_t h = 0, w = 0;
  if (x == std::string::npos) {
    if (!parse_number(text, h)) return std::nullopt;
    w = h;
  } else if (!parse_number(text.substr(0, x), h) || !parse_number(text.substr(x + 1), w)) {
    return std::nullopt;
  }
  if (h < min || w < min) return std::nullopt;
  return Size2d(h, w);
}

// The "name value" options after a layer's positional arguments ("stride 2 pad 1"), plus bare flags.
struct LayerOptions {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
};

LayerOptions parse_options(const std::vector<std::string>& words, std::size_t first, const std::string& where,
                           const std::set<std::string>& valued, const std::set<std::string>& flags) {
  LayerOptions out;
  for (std::size_t k = first; k < words.size(); ++k) {
    const std::string& w = words[k];
    if (flags.count(w)) {
      out.flags.insert(w);
    } else if (valued.count(w)) {
      if (k + 1 >= words.size()) throw ValueError(fmt::format("{}: '{}' needs a value", where, w));
      if (!out.values.emplace(w, words[k + 1]).second) throw ValueError(fmt::format("{}: '{}' given twice", where, w));
      ++k;
    } else {
      std::vector<std::string> known(valued.begin(), valued.end());
      known.insert(known.end(), flags.begin(), flags.end());
      throw ValueError(fmt::format("{}: unknown option '{}' (known: {})", where, w, fmt::join(known, ", ")));
    }
  }
  return out;
}

Size2d size_option(const LayerOptions& o, const std::string& key, Size2d fallback, std::int64_t min,
                   const std::string& where) {
  auto it = o.values.find(key);
  if (it == o.values.end()) return fallback;
  auto v = parse_size2d(it->second, min);
  if (!v) throw ValueError(fmt::format("{}: {} must be N or HxW with integers >= {}, got '{}'", where, key, min, it->second));
  return *v;
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

// A layer with a weight the init scheme applies to (Linear or Conv2d), and where it is in the list.
struct Weighted {
  Tensor weight, bias;
  std::size_t index;
};

void initialize(const Weighted& layer, const std::string& scheme, const std::string& next_activation) {
  if (scheme == "default") return;
  Generator& gen = default_generator();
  const std::string nonlinearity = next_activation == "tanh" || next_activation == "sigmoid" || next_activation == "relu" ||
                                           next_activation == "leaky_relu"
                                       ? next_activation
                                       : "linear";
  if (scheme == "xavier_uniform") {
    nn::init::xavier_uniform_(layer.weight, nn::init::calculate_gain(nonlinearity), gen);
  } else if (scheme == "xavier_normal") {
    nn::init::xavier_normal_(layer.weight, nn::init::calculate_gain(nonlinearity), gen);
  } else if (scheme == "he_uniform") {
    nn::init::kaiming_uniform_(layer.weight, 0.0, "fan_in", "relu", gen);
  } else if (scheme == "he_normal") {
    nn::init::kaiming_normal_(layer.weight, 0.0, "fan_in", "relu", gen);
  } else {
    throw ValueError(fmt::format("model.init: unknown scheme '{}' (known: default, xavier_uniform, xavier_normal, he_uniform, he_normal)", scheme));
  }
  if (layer.bias.defined()) {
    NoGradGuard no_grad;
    nn::init::zeros_(layer.bias);
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
  std::vector<Weighted> weighted;  // to initialize once the next layer is known

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
    // Runs a layer's output_shape on one example ([1, C, H, W]), naming this entry in the error.
    auto image_layer_shape = [&](auto& layer) {
      if (shape.size() != 3)
        throw ValueError(fmt::format("{}: needs images [channels, height, width], the input here is {}", where,
                                     fmt::join(shape, "x")));
      Shape batch_shape = shape;
      batch_shape.insert(batch_shape.begin(), 1);
      try {
        const Shape out = layer.output_shape(batch_shape);
        return Shape(out.begin() + 1, out.end());
      } catch (const ShapeError& e) {
        throw ValueError(fmt::format("{}: {}", where, e.what()));
      }
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
      weighted.push_back({layer->weight(), layer->bias(), i});
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
    } else if (kind == "conv2d") {
      // conv2d OUT KERNEL [stride S] [pad P|same] [dilation D] [groups G] [nobias]
      if (words.size() < 3)
        throw ValueError(fmt::format("{}: write conv2d OUT_CHANNELS KERNEL, e.g. 'conv2d 32 3x3 pad 1'", where));
      std::int64_t out = 0;
      if (!parse_number(words[1], out) || out <= 0)
        throw ValueError(fmt::format("{}: the number of output channels must be a positive integer, got '{}'", where, words[1]));
      const auto kernel = parse_size2d(words[2], 1);
      if (!kernel) throw ValueError(fmt::format("{}: the kernel size must be N or HxW, got '{}'", where, words[2]));
      const LayerOptions o = parse_options(words, 3, where, {"stride", "pad", "dilation", "groups"}, {"nobias"});
      nn::Conv2dOptions options{.out_channels = out, .kernel_size = *kernel};
      options.in_channels = shape.size() == 3 ? shape[0] : 0;
      options.stride = size_option(o, "stride", 1, 1, where);
      options.dilation = size_option(o, "dilation", 1, 1, where);
      if (auto it = o.values.find("pad"); it != o.values.end() && it->second == "same") {
        // PyTorch's padding='same' for stride 1, with the symmetric padding an odd effective kernel allows.
        const std::int64_t eh = options.dilation.h * (kernel->h - 1), ew = options.dilation.w * (kernel->w - 1);
        if (!(options.stride == Size2d(1)) || eh % 2 != 0 || ew % 2 != 0)
          throw ValueError(fmt::format("{}: pad same needs stride 1 and an odd kernel", where));
        options.padding = Size2d(eh / 2, ew / 2);
      } else {
        options.padding = size_option(o, "pad", 0, 0, where);
      }
      if (auto it = o.values.find("groups"); it != o.values.end()) {
        if (!parse_number(it->second, options.groups) || options.groups <= 0)
          throw ValueError(fmt::format("{}: groups must be a positive integer, got '{}'", where, it->second));
      }
      options.bias = !o.flags.count("nobias");
      if (shape.size() != 3)
        throw ValueError(fmt::format("{}: needs images [channels, height, width], the input here is {}", where,
                                     fmt::join(shape, "x")));
      std::shared_ptr<nn::Conv2d> layer;
      try {
        layer = std::make_shared<nn::Conv2d>(options);
      } catch (const ValueError& e) {
        throw ValueError(fmt::format("{}: {}", where, e.what()));
      }
      shape = image_layer_shape(*layer);
      weighted.push_back({layer->weight(), layer->bias(), i});
      model->push_back(layer);
    } else if (kind == "maxpool" || kind == "avgpool") {
      // maxpool KERNEL [stride S] [pad P]; avgpool the same (padding counts as zeros, as PyTorch's default)
      if (words.size() < 2) throw ValueError(fmt::format("{}: write {} KERNEL, e.g. '{} 2'", where, kind, kind));
      const auto kernel = parse_size2d(words[1], 1);
      if (!kernel) throw ValueError(fmt::format("{}: the kernel size must be N or HxW, got '{}'", where, words[1]));
      const LayerOptions o = parse_options(words, 2, where, {"stride", "pad"}, {});
      const Size2d stride = size_option(o, "stride", *kernel, 1, where);
      const Size2d pad = size_option(o, "pad", 0, 0, where);
      try {
        if (kind == "maxpool") {
          auto layer = std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions{.kernel_size = *kernel, .stride = stride, .padding = pad});
          shape = image_layer_shape(*layer);
          model->push_back(layer);
        } else {
          auto layer = std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions{.kernel_size = *kernel, .stride = stride, .padding = pad});
          shape = image_layer_shape(*layer);
          model->push_back(layer);
        }
      } catch (const ValueError& e) {
        if (std::string(e.what()).rfind(where, 0) == 0) throw;
        throw ValueError(fmt::format("{}: {}", where, e.what()));
      }
    } else if (kind == "adaptive_avgpool") {
      max_args(1);
      const auto size = words.size() > 1 ? parse_size2d(words[1], 1) : std::optional<Size2d>(Size2d(1));
      if (!size) throw ValueError(fmt::format("{}: the output size must be N or HxW, got '{}'", where, words[1]));
      auto layer = std::make_shared<nn::AdaptiveAvgPool2d>(nn::AdaptiveAvgPool2dOptions{.output_size = *size});
      shape = image_layer_shape(*layer);
      model->push_back(layer);
    } else if (kind == "dropout2d") {
      max_args(1);
      const double p = arg_double(1, 0.5);
      if (p < 0 || p >= 1) throw ValueError(fmt::format("{}: the probability must be in [0, 1), got {}", where, p));
      if (shape.size() != 3)
        throw ValueError(fmt::format("{}: needs images [channels, height, width], the input here is {}", where,
                                     fmt::join(shape, "x")));
      model->push_back(std::make_shared<nn::Dropout2d>(nn::DropoutOptions{.p = p}));
    } else if (kind == "batchnorm") {
      // BatchNorm2d after a convolution (per channel), BatchNorm1d on features.
      max_args(0);
      if (shape.size() == 3) {
        model->push_back(std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{.num_features = shape[0]}));
      } else {
        model->push_back(std::make_shared<nn::BatchNorm1d>(nn::BatchNormOptions{.num_features = features()}));
      }
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
          "{}: unknown layer '{}' (known: linear N, conv2d N KERNEL [stride S] [pad P|same] [dilation D] [groups G] "
          "[nobias], maxpool K [stride S] [pad P], avgpool K [stride S] [pad P], adaptive_avgpool [N], relu, "
          "leaky_relu [slope], prelu, elu [alpha], gelu, sigmoid, tanh, dropout p, dropout2d p, batchnorm, layernorm, "
          "flatten)",
          where, kind));
    }
  }

  if (shape != Shape{built.outputs})
    throw ValueError(fmt::format("model.layers[{}] '{}': the model ends with {} outputs per example, the data needs {}",
                                 built.layers.size() - 1, built.layers.back(), fmt::join(shape, "x"), what_data_needs));

  // The init scheme's gain depends on the activation that follows each weighted layer (normalization,
  // dropout and pooling in between do not change it).
  static const std::set<std::string> transparent = {"dropout", "dropout2d", "batchnorm", "layernorm", "maxpool",
                                                    "avgpool", "adaptive_avgpool", "flatten"};
  for (const Weighted& layer : weighted) {
    std::string next;
    for (std::size_t j = layer.index + 1; j < built.layers.size(); ++j) {
      auto w = split_words(built.layers[j]);
      if (w[0] == "linear" || w[0] == "conv2d") break;
      if (!transparent.count(w[0])) {
        next = w[0];
        break;
      }
    }
    initialize(layer, init, next);
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

train::LossFunction make_training_loss(const Config& config, LossKind kind, nn::Module& model) {
  train::LossFunction loss = make_loss(config, kind);
  const double l1 = config.number("training.l1"), l2 = config.number("training.l2");
  if (l1 < 0 || l2 < 0) throw ValueError(fmt::format("{}training.l1 and training.l2 must be >= 0", config.where("training")));
  if (l1 == 0 && l2 == 0) return loss;
  std::vector<Tensor> weights;
  for (auto& [name, t] : model.named_parameters())
    if (name.ends_with("weight")) weights.push_back(t);
  return [base = std::move(loss), weights = std::move(weights), l1, l2](const Tensor& output, const Tensor& target) {
    Tensor total = base(output, target);
    if (l1 > 0) total = total + optim::l1_penalty(weights) * l1;
    if (l2 > 0) total = total + optim::l2_penalty(weights) * (0.5 * l2);
    return total;
  };
}

}  // namespace descent::cli
