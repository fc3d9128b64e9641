#pragma once
// Loads the data a configuration names (IDX images and labels, or CSV tables), splits off the
// validation data, fits the scaling on the training split only and applies it everywhere. (Config
// has made the paths absolute.)

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "descent/data/csv.h"
#include "descent/data/dataset.h"
#include "descent/data/preprocess.h"
#include "model_builder.h"

namespace descent::cli {

/// What a trained model needs to read new data exactly as it read its training data; saved in
/// checkpoints.
struct DataFormat {
  std::string format;                       // "idx" or "csv"
  DataSpec spec;                            // example shape, task, classes/targets
  std::vector<std::string> classes;         // class index -> label
  std::vector<std::string> feature_names;   // csv
  std::vector<std::string> target_names;    // csv
  data::Scaler scaler;

  /// JSON for a checkpoint's metadata (without the scaler, which is saved as tensors).
  std::string to_json() const;
  static DataFormat from_json(const std::string& json, const std::string& origin);
};

struct LoadedData {
  DataFormat format;
  data::TensorDataset train;
  std::optional<data::TensorDataset> validation;
  std::optional<data::TensorDataset> test;
  std::string description;  // one line per split, for the terminal and the report
};

LoadedData load_training_data(const Config& config);

/// Reads inputs (and targets when present/required) from a file for eval/predict, scaled by the
/// format's fitted scaler. IDX: images, with labels_path for targets; CSV: the trained feature
/// columns (and target columns when with_targets).
data::TensorDataset load_for_model(const DataFormat& format, const std::filesystem::path& path,
                                   const std::optional<std::filesystem::path>& labels_path, bool with_targets);

}  // namespace descent::cli
