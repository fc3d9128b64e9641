#pragma once
// What a run recorded: one row of named values per epoch ("epoch", "loss", "accuracy", "val_loss",
// "val_accuracy", "lr", "seconds", ...) and the loss of every step. Saved in checkpoints and in the run
// folder as JSON.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace descent::train {

struct StepRecord {
  std::int64_t epoch = 0;  // 1-based
  std::int64_t step = 0;   // global optimizer step, 1-based
  double loss = 0;
  double lr = 0;
};

struct History {
  std::vector<std::map<std::string, double>> epochs;
  std::vector<StepRecord> steps;
  /// Why training stopped: "completed", "early stopping (val_loss did not improve for 5 epochs)", ...
  std::string stop_reason;

  /// The values of one key over the epochs (NaN where an epoch lacks it).
  std::vector<double> column(const std::string& key) const;
  /// The union of the epochs' keys, "epoch" first, then in first-seen order.
  std::vector<std::string> keys() const;

  std::string to_json() const;
  /// ValueError naming the problem for malformed JSON.
  static History from_json(std::string_view json);
};

}  // namespace descent::train
