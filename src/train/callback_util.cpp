#include "train/callback_util.h"

#include <cmath>

#include "internal/check.h"

namespace descent::train::detail {

Mode resolve_mode(Mode mode, const std::string& monitor) {
  if (mode != Mode::Auto) return mode;
  for (const char* larger_is_better : {"accuracy", "f1", "r2"}) {
    if (monitor.find(larger_is_better) != std::string::npos) return Mode::Max;
  }
  return Mode::Min;
}

bool improves(double value, const std::optional<double>& best, Mode resolved, double min_delta) {
  if (std::isnan(value)) return false;
  if (!best) return true;
  return resolved == Mode::Max ? value > *best + min_delta : value < *best - min_delta;
}

double monitored(const EpochLogs& logs, const std::string& monitor, std::string_view owner) {
  const auto it = logs.find(monitor);
  if (it != logs.end()) return it->second;
  std::string keys;
  for (const auto& [key, value] : logs) keys += (keys.empty() ? "" : ", ") + key;
  throw ValueError(fmt::format("{}: the monitored value \"{}\" is not in the epoch's logs (there are: {}){}", owner,
                               monitor, keys,
                               monitor.rfind("val_", 0) == 0 ? "; is there validation data?" : ""));
}

const Tensor& require(const std::map<std::string, Tensor>& state, const std::string& key, std::string_view owner) {
  const auto it = state.find(key);
  DESCENT_CHECK_VALUE(it != state.end(), "{}.load_state_dict: missing key \"{}\"", owner, key);
  DESCENT_CHECK_VALUE(it->second.defined() && it->second.numel() == 1,
                      "{}.load_state_dict: \"{}\" must hold a single value", owner, key);
  return it->second;
}

std::optional<double> decode_optional(const std::map<std::string, Tensor>& state, const std::string& key,
                                      std::string_view owner) {
  const double v = require(state, key, owner).item();
  return std::isnan(v) ? std::nullopt : std::optional<double>(v);
}

std::int64_t decode_count(const std::map<std::string, Tensor>& state, const std::string& key, std::string_view owner) {
  return static_cast<std::int64_t>(std::llround(require(state, key, owner).item()));
}

}  // namespace descent::train::detail
