// MetricsLogger: the whole history as metrics.csv and metrics.jsonl, rewritten atomically after
// every epoch, so a reader (or a crash) never sees a half-written file.

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "descent/core/error.h"
#include "descent/io/atomic_file.h"
#include "descent/train/callbacks.h"
#include "descent/train/trainer.h"

namespace descent::train {

namespace {

// Shortest round-trip form ("3", "0.1", "1e-05"); empty for a missing value.
std::string csv_field(const std::map<std::string, double>& row, const std::string& key) {
  const auto it = row.find(key);
  if (it == row.end()) return "";
  return fmt::format("{}", it->second);
}

}  // namespace

MetricsLogger::MetricsLogger(std::string folder) : folder_(std::move(folder)) {}

void MetricsLogger::on_epoch_end(Trainer& trainer, EpochLogs&) {
  const History& history = trainer.history();
  const std::vector<std::string> keys = history.keys();
  std::string csv;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) csv += ',';
    csv += keys[i];
  }
  csv += '\n';
  std::string jsonl;
  for (const auto& row : history.epochs) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) csv += ',';
      csv += csv_field(row, keys[i]);
    }
    csv += '\n';
    nlohmann::ordered_json j;
    for (const std::string& key : keys) {
      const auto it = row.find(key);
      if (it == row.end()) continue;
      if (key == "epoch") {
        j[key] = std::llround(it->second);
      } else if (std::isfinite(it->second)) {
        j[key] = it->second;
      } else {
        j[key] = nullptr;
      }
    }
    jsonl += j.dump() + '\n';
  }
  const std::filesystem::path folder(folder_);
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) throw IOError(fmt::format("MetricsLogger: cannot create the folder {}: {}", folder_, error.message()));
  io::write_file_atomically(folder / "metrics.csv", csv);
  io::write_file_atomically(folder / "metrics.jsonl", jsonl);
}

}  // namespace descent::train
