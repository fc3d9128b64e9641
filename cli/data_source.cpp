#include "data_source.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "descent/core/error.h"
#include "descent/data/idx.h"
#include "descent/ops/reduce.h"

namespace descent::cli {
namespace {

using nlohmann::json;

std::string format_of(const Config& config) {
  if (config.has("data.format")) {
    std::string f = config.string("data.format");
    if (f != "idx" && f != "csv") throw ValueError(fmt::format("{}data.format: expected \"idx\" or \"csv\", got \"{}\"", config.where("data.format"), f));
    return f;
  }
  if (config.has("data.train_images")) return "idx";
  if (config.has("data.train")) return "csv";
  throw ValueError(fmt::format("{}no training data: set data.train (CSV) or data.train_images and data.train_labels (IDX)",
                               config.where("data")));
}

data::Task task_of(const Config& config) {
  const std::string t = config.string("data.task");
  if (t == "classification") return data::Task::Classification;
  if (t == "regression") return data::Task::Regression;
  throw ValueError(fmt::format("{}data.task: expected \"classification\" or \"regression\", got \"{}\"", config.where("data.task"), t));
}

// Images [N, H, W] become [N, 1, H, W] (one channel); [N, F] stays a table.
Tensor as_examples(Tensor images) {
  if (images.dim() == 3) return images.reshape({images.size(0), 1, images.size(1), images.size(2)});
  return images;
}

data::TensorDataset read_idx_pair(const std::string& images_path, const std::string& labels_path, data::Task task) {
  Tensor images = as_examples(data::read_idx(images_path, kFloat32));
  Tensor labels = data::read_idx(labels_path, task == data::Task::Classification ? kInt64 : kFloat32);
  if (images.dim() < 2) throw ValueError(fmt::format("{}: expected examples of at least one value, the file holds shape [{}]", images_path, fmt::join(images.shape(), ", ")));
  if (labels.size(0) != images.size(0))
    throw ValueError(fmt::format("{} holds {} examples but {} holds {} labels", images_path, images.size(0), labels_path, labels.size(0)));
  if (task == data::Task::Regression && labels.dim() == 1) labels = labels.reshape({labels.size(0), 1});
  return data::TensorDataset(images, labels);
}

std::vector<std::string> targets_of(const Config& config) {
  if (config.has("data.target") && config.has("data.targets"))
    throw ValueError(fmt::format("{}give data.target or data.targets, not both", config.where("data.targets")));
  if (config.has("data.target")) return {config.string("data.target")};
  if (config.has("data.targets")) return config.strings("data.targets");
  throw ValueError(fmt::format("{}CSV data needs data.target (the column to predict)", config.where("data")));
}

data::TensorDataset to_dataset(const data::TabularData& t) { return data::TensorDataset(t.features, t.targets); }

std::int64_t count_classes(const Tensor& labels, const std::string& origin) {
  if (labels.numel() == 0) return 0;
  const std::int64_t* p = labels.contiguous().data_ptr<std::int64_t>();
  std::int64_t lo = p[0], hi = p[0];
  for (std::int64_t i = 0; i < labels.numel(); ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  if (lo < 0) throw ValueError(fmt::format("{}: class labels must be 0, 1, 2, ..., found {}", origin, lo));
  return hi + 1;
}

data::TensorDataset scaled(const data::TensorDataset& d, const data::Scaler& scaler) {
  return data::TensorDataset(scaler.transform(d.inputs()), d.targets());
}

std::string shape_text(const Shape& s) { return fmt::format("{}", fmt::join(s, "x")); }

}  // namespace

std::string DataFormat::to_json() const {
  json j;
  j["format"] = format;
  j["task"] = spec.task == data::Task::Classification ? "classification" : "regression";
  j["example_shape"] = spec.example_shape;
  j["num_classes"] = spec.num_classes;
  j["num_targets"] = spec.num_targets;
  j["classes"] = classes;
  j["feature_names"] = feature_names;
  j["target_names"] = target_names;
  return j.dump();
}

DataFormat DataFormat::from_json(const std::string& text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  DataFormat f;
  try {
    f.format = j.at("format").get<std::string>();
    f.spec.task = j.at("task").get<std::string>() == "regression" ? data::Task::Regression : data::Task::Classification;
    f.spec.example_shape = j.at("example_shape").get<std::vector<std::int64_t>>();
    f.spec.num_classes = j.at("num_classes").get<std::int64_t>();
    f.spec.num_targets = j.at("num_targets").get<std::int64_t>();
    f.classes = j.at("classes").get<std::vector<std::string>>();
    f.feature_names = j.at("feature_names").get<std::vector<std::string>>();
    f.target_names = j.at("target_names").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw IOError(fmt::format("{}: the data description is damaged: {}", origin, e.what()));
  }
  return f;
}

LoadedData load_training_data(const Config& config) {
  LoadedData out;
  DataFormat& f = out.format;
  f.format = format_of(config);
  f.spec.task = task_of(config);
  const std::uint64_t seed = static_cast<std::uint64_t>(config.integer("seed"));

  std::optional<data::TensorDataset> validation_file;
  if (f.format == "idx") {
    for (const char* key : {"data.train_images", "data.train_labels"})
      if (!config.has(key)) throw ValueError(fmt::format("{}IDX data needs {}", config.where("data"), key));
    out.train = read_idx_pair(config.string("data.train_images"), config.string("data.train_labels"), f.spec.task);
    if (config.has("data.test_images") != config.has("data.test_labels"))
      throw ValueError(fmt::format("{}give both data.test_images and data.test_labels", config.where("data")));
    if (config.has("data.test_images"))
      out.test = read_idx_pair(config.string("data.test_images"), config.string("data.test_labels"), f.spec.task);
    if (f.spec.task == data::Task::Classification) {
      f.spec.num_classes = count_classes(out.train.targets(), config.string("data.train_labels"));
      if (config.has("data.class_names")) {
        f.classes = config.strings("data.class_names");
        if (static_cast<std::int64_t>(f.classes.size()) < f.spec.num_classes)
          throw ValueError(fmt::format("{}data.class_names names {} classes, the labels go up to {}", config.where("data.class_names"),
                                       f.classes.size(), f.spec.num_classes - 1));
        f.spec.num_classes = static_cast<std::int64_t>(f.classes.size());
      } else {
        for (std::int64_t c = 0; c < f.spec.num_classes; ++c) f.classes.push_back(std::to_string(c));
      }
      if (out.test) {
        const std::int64_t test_classes = count_classes(out.test->targets(), config.string("data.test_labels"));
        if (test_classes > f.spec.num_classes)
          throw ValueError(fmt::format("{} has label {}, the training labels only go up to {}", config.string("data.test_labels"),
                                       test_classes - 1, f.spec.num_classes - 1));
      }
    } else {
      f.spec.num_targets = out.train.targets().dim() == 2 ? out.train.targets().size(1) : 1;
    }
  } else {
    if (!config.has("data.train")) throw ValueError(fmt::format("{}CSV data needs data.train", config.where("data")));
    data::TabularOptions options{.targets = targets_of(config), .task = f.spec.task};
    if (config.has("data.features")) options.features = config.strings("data.features");
    if (f.spec.task == data::Task::Classification && options.targets.size() != 1)
      throw ValueError(fmt::format("{}classification predicts one column (data.target), got {}", config.where("data.targets"), options.targets.size()));
    const data::TabularData train = data::to_tabular(data::read_csv(config.string("data.train")), options);
    f.classes = train.classes;
    f.feature_names = train.feature_names;
    f.target_names = train.target_names;
    out.train = to_dataset(train);
    // Validation and test files are read with the training columns and classes.
    options.features = f.feature_names;
    options.classes = f.classes;
    if (config.has("data.validation_file"))
      validation_file = to_dataset(data::to_tabular(data::read_csv(config.string("data.validation_file")), options));
    if (config.has("data.test")) out.test = to_dataset(data::to_tabular(data::read_csv(config.string("data.test")), options));
    if (f.spec.task == data::Task::Classification) {
      f.spec.num_classes = static_cast<std::int64_t>(f.classes.size());
      if (f.spec.num_classes < 2)
        throw ValueError(fmt::format("{}: column '{}' has only one class ('{}'): nothing to classify", config.string("data.train"),
                                     options.targets[0], f.classes.empty() ? "" : f.classes[0]));
    } else {
      f.spec.num_targets = static_cast<std::int64_t>(f.target_names.size());
    }
  }

  const std::int64_t limit = config.integer("data.limit");
  if (limit < 0) throw ValueError(fmt::format("{}data.limit must be >= 0", config.where("data.limit")));
  if (limit > 0 && limit < out.train.size()) {
    std::vector<std::int64_t> first(static_cast<std::size_t>(limit));
    for (std::int64_t i = 0; i < limit; ++i) first[static_cast<std::size_t>(i)] = i;
    out.train = out.train.subset(first);
  }

  const double fraction = config.number("data.validation");
  if (validation_file && fraction > 0)
    throw ValueError(fmt::format("{}give data.validation (a fraction) or data.validation_file, not both", config.where("data.validation")));
  if (fraction < 0 || fraction >= 1)
    throw ValueError(fmt::format("{}data.validation is a fraction in [0, 1), got {}", config.where("data.validation"), fraction));
  if (fraction > 0) {
    auto [rest, held_out] = data::random_split(out.train, fraction, seed);
    out.train = rest;
    out.validation = held_out;
  } else if (validation_file) {
    out.validation = validation_file;
  }

  Shape example(out.train.inputs().shape().begin() + 1, out.train.inputs().shape().end());
  f.spec.example_shape = example;

  // Scaling: fitted on the training split only.
  const data::ScalerKind kind = data::parse_scaler_kind(config.string("data.scaling"));
  f.scaler = data::Scaler(kind, config.boolean("data.per_feature"), config.number("data.scale"));
  f.scaler.fit(out.train.inputs());
  out.train = scaled(out.train, f.scaler);
  if (out.validation) out.validation = scaled(*out.validation, f.scaler);
  if (out.test) out.test = scaled(*out.test, f.scaler);

  out.description = fmt::format("{} training examples of shape {}", out.train.size(), shape_text(example));
  if (out.validation) out.description += fmt::format(", {} validation", out.validation->size());
  if (out.test) out.description += fmt::format(", {} test", out.test->size());
  out.description += f.spec.task == data::Task::Classification ? fmt::format("; {} classes", f.spec.num_classes)
                                                               : fmt::format("; {} target(s)", f.spec.num_targets);
  return out;
}

data::TensorDataset load_for_model(const DataFormat& format, const std::filesystem::path& path,
                                   const std::optional<std::filesystem::path>& labels_path, bool with_targets) {
  data::TensorDataset raw;
  if (format.format == "idx") {
    Tensor images = as_examples(data::read_idx(path, kFloat32));
    Tensor labels;
    if (labels_path) {
      labels = data::read_idx(*labels_path, format.spec.task == data::Task::Classification ? kInt64 : kFloat32);
      if (labels.size(0) != images.size(0))
        throw ValueError(fmt::format("{} holds {} examples but {} holds {} labels", path.string(), images.size(0), labels_path->string(), labels.size(0)));
      if (format.spec.task == data::Task::Regression && labels.dim() == 1) labels = labels.reshape({labels.size(0), 1});
      if (format.spec.task == data::Task::Classification) {
        const std::int64_t n = count_classes(labels, labels_path->string());
        if (n > format.spec.num_classes)
          throw ValueError(fmt::format("{} has label {}, the model knows {} classes", labels_path->string(), n - 1, format.spec.num_classes));
      }
    } else if (with_targets) {
      throw ValueError(fmt::format("{}: IDX images need a labels file to evaluate", path.string()));
    }
    raw = data::TensorDataset(images, labels);
  } else {
    data::TabularOptions options{.targets = with_targets ? format.target_names : std::vector<std::string>{},
                                 .task = format.spec.task,
                                 .features = format.feature_names,
                                 .classes = format.classes};
    const data::TabularData t = data::to_tabular(data::read_csv(path), options);
    raw = data::TensorDataset(t.features, t.targets);
  }
  Shape example(raw.inputs().shape().begin() + 1, raw.inputs().shape().end());
  if (example != format.spec.example_shape)
    throw ShapeError(fmt::format("{}: examples have shape {}, the model was trained on {}", path.string(), shape_text(example),
                                 shape_text(format.spec.example_shape)));
  return data::TensorDataset(format.scaler.transform(raw.inputs()), raw.targets());
}

}  // namespace descent::cli
