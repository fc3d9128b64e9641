#include "config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/core/error.h"
#include "descent/io/atomic_file.h"

namespace descent::cli {
namespace {

using nlohmann::json;

enum class Kind { Integer, Number, Boolean, String, Integers, Numbers, Strings };

struct KeySpec {
  const char* key;  // dotted: "training.epochs"
  Kind kind;
  json default_value;  // null: optional, unset
  const char* help;
};

// The schema: every key a configuration may hold. Sections are the prefixes before the last dot.
const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> keys = {
      {"seed", Kind::Integer, 0, "seed of every random choice (initialization, shuffling, dropout, augmentation)"},
      {"output", Kind::String, nullptr, "run folder (default: runs/<config file name>)"},
      {"threads", Kind::Integer, 1, "threads for OpenMP and OpenBLAS"},

      {"data.format", Kind::String, nullptr, "\"idx\" or \"csv\" (default: from the file names)"},
      {"data.task", Kind::String, "classification", "\"classification\" or \"regression\""},
      {"data.train", Kind::String, nullptr, "training CSV file"},
      {"data.test", Kind::String, nullptr, "test CSV file (evaluated after training)"},
      {"data.validation_file", Kind::String, nullptr, "validation CSV file (instead of a fraction)"},
      {"data.train_images", Kind::String, nullptr, "training images, IDX (.gz accepted)"},
      {"data.train_labels", Kind::String, nullptr, "training labels, IDX"},
      {"data.test_images", Kind::String, nullptr, "test images, IDX"},
      {"data.test_labels", Kind::String, nullptr, "test labels, IDX"},
      {"data.validation", Kind::Number, 0.0, "fraction of the training data held out for validation (0: none)"},
      {"data.target", Kind::String, nullptr, "CSV: the target column"},
      {"data.targets", Kind::Strings, nullptr, "CSV: several target columns (regression)"},
      {"data.features", Kind::Strings, nullptr, "CSV: the feature columns (default: all but the targets)"},
      {"data.scaling", Kind::String, "standardize", "\"standardize\", \"minmax\", \"scale\" or \"none\" (fitted on the training split)"},
      {"data.per_feature", Kind::Boolean, true, "scaling statistics per feature (true) or over all values (false)"},
      {"data.scale", Kind::Number, 255.0, "the divisor of scaling = \"scale\""},
      {"data.class_names", Kind::Strings, nullptr, "names of the classes 0, 1, ... of IDX labels (default: the numbers)"},
      {"data.limit", Kind::Integer, 0, "use only the first N training examples (0: all)"},
      {"data.augment.max_shift", Kind::Integer, 0, "random shifts of training images by up to N pixels"},
      {"data.augment.horizontal_flip", Kind::Boolean, false, "random left-right flips of training images"},
      {"data.augment.noise_std", Kind::Number, 0.0, "Gaussian noise added to training inputs"},

      {"model.preset", Kind::String, nullptr,
       "\"mlp\", \"linear_regression\", \"logistic_regression\", \"softmax_regression\" or \"linear_svm\""},
      {"model.layers", Kind::Strings, nullptr, "layers, e.g. [\"linear 256\", \"relu\", \"dropout 0.2\", \"linear\"]"},
      {"model.hidden", Kind::Integers, json::array({256, 128}), "mlp: hidden layer sizes"},
      {"model.activation", Kind::String, "relu", "mlp: relu, leaky_relu, prelu, elu, gelu, sigmoid, tanh"},
      {"model.dropout", Kind::Number, 0.0, "mlp: dropout after each hidden layer"},
      {"model.batch_norm", Kind::Boolean, false, "mlp: batch normalization after each hidden linear layer"},
      {"model.init", Kind::String, "default",
       "\"default\" (PyTorch's), \"xavier_uniform\", \"xavier_normal\", \"he_uniform\", \"he_normal\""},

      {"loss.name", Kind::String, nullptr,
       "cross_entropy, mse, l1, huber, smooth_l1, bce (with logits), hinge, multi_margin (default: from the task)"},
      {"loss.label_smoothing", Kind::Number, 0.0, "cross_entropy: label smoothing"},
      {"loss.delta", Kind::Number, 1.0, "huber: delta; smooth_l1: beta"},
      {"loss.margin", Kind::Number, 1.0, "hinge, multi_margin: the margin"},

      {"optimizer.name", Kind::String, "adam", "sgd, adagrad, adadelta, rmsprop, adam, adamw, adamax, nadam"},
      {"optimizer.lr", Kind::Number, nullptr, "learning rate (default: the optimizer's; sgd: 0.01)"},
      {"optimizer.momentum", Kind::Number, nullptr, "sgd, rmsprop"},
      {"optimizer.dampening", Kind::Number, nullptr, "sgd"},
      {"optimizer.nesterov", Kind::Boolean, nullptr, "sgd"},
      {"optimizer.weight_decay", Kind::Number, nullptr, "L2 penalty folded into the update (every optimizer)"},
      {"optimizer.betas", Kind::Numbers, nullptr, "adam, adamw, adamax, nadam: [beta1, beta2]"},
      {"optimizer.eps", Kind::Number, nullptr, "adagrad, adadelta, rmsprop, adam family"},
      {"optimizer.amsgrad", Kind::Boolean, nullptr, "adam, adamw"},
      {"optimizer.alpha", Kind::Number, nullptr, "rmsprop: smoothing constant"},
      {"optimizer.centered", Kind::Boolean, nullptr, "rmsprop"},
      {"optimizer.rho", Kind::Number, nullptr, "adadelta"},
      {"optimizer.lr_decay", Kind::Number, nullptr, "adagrad"},
      {"optimizer.initial_accumulator_value", Kind::Number, nullptr, "adagrad"},
      {"optimizer.momentum_decay", Kind::Number, nullptr, "nadam"},

      {"schedule.name", Kind::String, "none", "none, step, multistep, exponential, cosine, linear, onecycle, plateau"},
      {"schedule.step_size", Kind::Integer, nullptr, "step: epochs between decays"},
      {"schedule.gamma", Kind::Number, nullptr, "step, multistep, exponential: decay factor"},
      {"schedule.milestones", Kind::Integers, nullptr, "multistep: epochs at which to decay"},
      {"schedule.T_max", Kind::Integer, nullptr, "cosine: epochs of the half cosine (default: training.epochs)"},
      {"schedule.eta_min", Kind::Number, nullptr, "cosine: the final learning rate"},
      {"schedule.start_factor", Kind::Number, nullptr, "linear"},
      {"schedule.end_factor", Kind::Number, nullptr, "linear"},
      {"schedule.total_iters", Kind::Integer, nullptr, "linear: epochs"},
      {"schedule.max_lr", Kind::Number, nullptr, "onecycle: the peak learning rate (stepped every batch)"},
      {"schedule.pct_start", Kind::Number, nullptr, "onecycle"},
      {"schedule.factor", Kind::Number, nullptr, "plateau: lr *= factor"},
      {"schedule.patience", Kind::Integer, nullptr, "plateau: epochs without improvement"},
      {"schedule.min_lr", Kind::Number, nullptr, "plateau"},
      {"schedule.monitor", Kind::String, nullptr, "plateau: the value watched (default: val_loss, or loss without validation)"},

      {"training.epochs", Kind::Integer, 10, "epochs to train"},
      {"training.batch_size", Kind::Integer, 64, "1: stochastic, N: mini-batch, 0: full batch gradient descent"},
      {"training.shuffle", Kind::Boolean, true, "a new order of the training examples every epoch"},
      {"training.drop_last", Kind::Boolean, false, "drop the last incomplete batch"},
      {"training.clip_grad_norm", Kind::Number, 0.0, "clip the gradients' total L2 norm (0: off)"},
      {"training.clip_grad_value", Kind::Number, 0.0, "clip each gradient value to [-v, v] (0: off)"},
      {"training.l1", Kind::Number, 0.0, "L1 penalty coefficient added to the loss (weights and biases)"},
      {"training.l2", Kind::Number, 0.0, "L2 penalty coefficient (0.5 * l2 * sum w^2) added to the loss"},
      {"training.top_k", Kind::Integers, json::array(), "also report top-k accuracy for these k"},
      {"training.target_loss", Kind::Number, nullptr, "stop once the training loss is at or below this"},
      {"training.tolerance", Kind::Number, nullptr, "stop once the training loss changes by less than this"},
      {"training.progress", Kind::String, "auto", "auto, bar, lines, quiet"},
      {"training.diagnostics", Kind::Boolean, true,
       "per-layer gradient statistics, and the problems they reveal with their remedies (off: --no-diagnostics)"},
      {"training.monitor", Kind::String, nullptr, "the value that picks the best checkpoint (default: val_loss, or loss)"},
      {"training.early_stopping.patience", Kind::Integer, 0, "stop after N epochs without improvement (0: off)"},
      {"training.early_stopping.min_delta", Kind::Number, 0.0, "smaller improvements do not count"},
      {"training.early_stopping.restore_best_weights", Kind::Boolean, true, "end with the best epoch's weights"},
  };
  return keys;
}

const KeySpec* find_spec(const std::string& key) {
  for (const auto& spec : schema())
    if (key == spec.key) return &spec;
  return nullptr;
}

bool is_section(const std::string& key) {
  const std::string prefix = key + ".";
  return std::any_of(schema().begin(), schema().end(),
                     [&](const KeySpec& s) { return std::string_view(s.key).starts_with(prefix); });
}

std::string kind_name(Kind kind) {
  switch (kind) {
    case Kind::Integer: return "an integer";
    case Kind::Number: return "a number";
    case Kind::Boolean: return "true or false";
    case Kind::String: return "a string";
    case Kind::Integers: return "a list of integers";
    case Kind::Numbers: return "a list of numbers";
    case Kind::Strings: return "a list of strings";
  }
  return "?";
}

bool matches(const json& v, Kind kind) {
  auto all = [&](auto pred) { return v.is_array() && std::all_of(v.begin(), v.end(), pred); };
  switch (kind) {
    case Kind::Integer: return v.is_number_integer();
    case Kind::Number: return v.is_number();
    case Kind::Boolean: return v.is_boolean();
    case Kind::String: return v.is_string();
    case Kind::Integers: return all([](const json& e) { return e.is_number_integer(); });
    case Kind::Numbers: return all([](const json& e) { return e.is_number(); });
    case Kind::Strings: return all([](const json& e) { return e.is_string(); });
  }
  return false;
}

std::string shown(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Sections a key can be close to, for "did you mean" hints: the known keys of the same section.
std::string known_keys_of(const std::string& section) {
  std::vector<std::string> names;
  const std::string prefix = section.empty() ? "" : section + ".";
  for (const auto& spec : schema()) {
    std::string_view k = spec.key;
    if (!k.starts_with(prefix)) continue;
    std::string rest(k.substr(prefix.size()));
    rest = rest.substr(0, rest.find('.'));
    if (std::find(names.begin(), names.end(), rest) == names.end()) names.push_back(rest);
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

json toml_to_json(const toml::node& node, const std::string& path, std::map<std::string, int>& lines,
                  const std::string& origin) {
  if (node.source().begin.line > 0 && !path.empty()) lines[path] = static_cast<int>(node.source().begin.line);
  if (auto* table = node.as_table()) {
    json out = json::object();
    for (auto&& [k, v] : *table) {
      std::string key(k.str());
      std::string child = path.empty() ? key : path + "." + key;
      if (k.source().begin.line > 0) lines[child] = static_cast<int>(k.source().begin.line);
      out[key] = toml_to_json(v, child, lines, origin);
    }
    return out;
  }
  if (auto* array = node.as_array()) {
    json out = json::array();
    for (auto&& v : *array) out.push_back(toml_to_json(v, path, lines, origin));
    return out;
  }
  if (auto v = node.value<std::int64_t>(); v && node.is_integer()) return *v;
  if (auto v = node.value<double>(); v && node.is_floating_point()) return *v;
  if (auto v = node.value<bool>()) return *v;
  if (auto v = node.value<std::string>()) return *v;
  throw ValueError(fmt::format("{}:{}: key '{}': dates and times are not configuration values", origin,
                               node.source().begin.line, path));
}

// "a.b=c" -> sets document["a"]["b"]; the value is read as JSON when it parses (5, 0.1, true,
// [1, 2], "x"), else taken as a string (relu).
void apply_override(json& document, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ValueError(fmt::format("--set '{}': expected key=value, e.g. --set training.epochs=5", assignment));
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (!find_spec(key)) {
    const auto dot = key.rfind('.');
    const std::string section = dot == std::string::npos ? "" : key.substr(0, dot);
    throw ValueError(fmt::format("--set {}: unknown key '{}' (known keys{}: {})", key, key,
                                 section.empty() ? "" : " of [" + section + "]", known_keys_of(is_section(section) ? section : "")));
  }
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  json* slot = &document;
  std::size_t start = 0;
  while (true) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot - start);
    if (!slot->is_object()) *slot = json::object();
    slot = &(*slot)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *slot = value;
}

}  // namespace

Config Config::load(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  const std::string origin = path.string();
  const std::string text = io::read_file(path);
  const std::string ext = path.extension().string();
  std::map<std::string, int> lines;
  nlohmann::json document;
  if (ext == ".toml") {
    toml::table table;
    try {
      table = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
      throw ValueError(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column, e.description()));
    }
    document = toml_to_json(table, "", lines, origin);
  } else if (ext == ".json") {
    try {
      document = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw ValueError(fmt::format("{}: invalid JSON: {}", origin, e.what()));
    }
  } else {
    throw ValueError(fmt::format("{}: a configuration is a .toml or .json file", origin));
  }
  Config config = from_json(std::move(document), origin, overrides, std::move(lines));
  // Data paths become absolute: relative to the configuration's folder when written in the file,
  // to the current folder when given with --set. The resolved configuration then names the same
  // files from anywhere (checkpoints store it).
  std::vector<std::string> overridden;
  for (const auto& o : overrides) overridden.push_back(o.substr(0, o.find('=')));
  for (const char* key : {"data.train", "data.test", "data.validation_file", "data.train_images", "data.train_labels",
                          "data.test_images", "data.test_labels"}) {
    if (!config.has(key)) continue;
    std::filesystem::path p = config.string(key);
    if (p.is_relative()) {
      const bool from_command_line = std::find(overridden.begin(), overridden.end(), key) != overridden.end();
      p = from_command_line ? std::filesystem::absolute(p) : std::filesystem::absolute(path).parent_path() / p;
    }
    std::string k = key;
    std::replace(k.begin(), k.end(), '.', '/');
    config.json_[nlohmann::json::json_pointer("/" + k)] = p.lexically_normal().string();
  }
  return config;
}

Config Config::from_resolved(const std::string& json_text, const std::string& origin) {
  nlohmann::json document = nlohmann::json::parse(json_text, nullptr, false);
  if (document.is_discarded()) throw ValueError(fmt::format("{}: the stored configuration is not valid JSON", origin));
  return from_json(std::move(document), origin);
}

Config Config::from_json(nlohmann::json document, const std::string& origin, const std::vector<std::string>& overrides,
                         std::map<std::string, int> lines) {
  Config config;
  config.origin_ = origin;
  config.lines_ = std::move(lines);
  if (!document.is_object()) throw ValueError(fmt::format("{}: a configuration is a table of keys", origin));
  for (const auto& assignment : overrides) apply_override(document, assignment);

  // Walk what was given: every leaf must be a known key of the right kind.
  nlohmann::json resolved = nlohmann::json::object();
  std::vector<std::pair<std::string, const nlohmann::json*>> stack = {{"", &document}};
  while (!stack.empty()) {
    auto [prefix, node] = stack.back();
    stack.pop_back();
    for (auto it = node->begin(); it != node->end(); ++it) {
      const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (it->is_object() && is_section(key)) {
        stack.emplace_back(key, &*it);
        continue;
      }
      const KeySpec* spec = find_spec(key);
      if (!spec) {
        std::string section = prefix;
        throw ValueError(fmt::format("{}unknown key '{}' (known keys{}: {})", config.where(key), key,
                                     section.empty() ? "" : " of [" + section + "]", known_keys_of(section)));
      }
      if (it->is_null()) continue;  // a resolved configuration stores unset optional keys as null
      nlohmann::json value = *it;
      if (!matches(value, spec->kind))
        throw ValueError(fmt::format("{}key '{}' must be {}, got {}", config.where(key), key, kind_name(spec->kind), shown(value)));
      resolved[nlohmann::json::json_pointer("/" + [&] {
        std::string p = key;
        std::replace(p.begin(), p.end(), '.', '/');
        return p;
      }())] = value;
    }
  }
  for (const auto& spec : schema()) {
    std::string p = spec.key;
    std::replace(p.begin(), p.end(), '.', '/');
    nlohmann::json::json_pointer ptr("/" + p);
    if (!resolved.contains(ptr)) resolved[ptr] = spec.default_value;
  }
  config.json_ = std::move(resolved);
  return config;
}

namespace {
const nlohmann::json& lookup(const nlohmann::json& root, const std::string& key) {
  std::string p = key;
  std::replace(p.begin(), p.end(), '.', '/');
  return root.at(nlohmann::json::json_pointer("/" + p));
}
}  // namespace

bool Config::has(const std::string& key) const { return !lookup(json_, key).is_null(); }

#define DESCENT_CONFIG_GET(value_expr)                                                                  \
  const nlohmann::json& v = lookup(json_, key);                                                                   \
  if (v.is_null()) throw ValueError(fmt::format("{}key '{}' is required here", where(key), key));      \
  return value_expr;

std::int64_t Config::integer(const std::string& key) const { DESCENT_CONFIG_GET(v.get<std::int64_t>()) }
double Config::number(const std::string& key) const { DESCENT_CONFIG_GET(v.get<double>()) }
bool Config::boolean(const std::string& key) const { DESCENT_CONFIG_GET(v.get<bool>()) }
std::string Config::string(const std::string& key) const { DESCENT_CONFIG_GET(v.get<std::string>()) }
std::vector<std::int64_t> Config::integers(const std::string& key) const {
  DESCENT_CONFIG_GET(v.get<std::vector<std::int64_t>>())
}
std::vector<double> Config::numbers(const std::string& key) const { DESCENT_CONFIG_GET(v.get<std::vector<double>>()) }
std::vector<std::string> Config::strings(const std::string& key) const {
  DESCENT_CONFIG_GET(v.get<std::vector<std::string>>())
}
#undef DESCENT_CONFIG_GET

std::vector<std::string> Config::set_keys(const std::string& section) const {
  std::vector<std::string> out;
  const nlohmann::json& s = lookup(json_, section);
  for (auto it = s.begin(); it != s.end(); ++it)
    if (!it->is_null() && !it->is_object()) out.push_back(it.key());
  return out;
}

std::string Config::where(const std::string& key) const {
  auto it = lines_.find(key);
  if (it != lines_.end()) return fmt::format("{}:{}: ", origin_, it->second);
  return fmt::format("{}: ", origin_);
}

std::string describe_schema() {
  std::string out;
  std::string section = "-";
  for (const auto& spec : schema()) {
    std::string key = spec.key;
    const auto dot = key.rfind('.');
    std::string s = dot == std::string::npos ? "" : key.substr(0, dot);
    if (s != section) {
      section = s;
      out += section.empty() ? "\n(top level)\n" : fmt::format("\n[{}]\n", section);
    }
    std::string name = dot == std::string::npos ? key : key.substr(dot + 1);
    std::string def = spec.default_value.is_null() ? "" : " = " + spec.default_value.dump();
    out += fmt::format("  {:<28} {}{}\n", name + def, spec.help, "");
  }
  return out;
}

}  // namespace descent::cli
