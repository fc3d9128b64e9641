#pragma once
// What the callbacks share: reading a monitored value, deciding "better" for a mode, and their
// state-dict entries (numbers as 0-d float64, NaN for "none"; counters as 0-d int64).

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "descent/train/callbacks.h"

namespace descent::train::detail {

/// Min or Max (Auto resolved from the name: accuracy, f1 and r2 are better larger).
Mode resolve_mode(Mode mode, const std::string& monitor);

/// Whether value improves on best by more than min_delta.
bool improves(double value, const std::optional<double>& best, Mode resolved, double min_delta = 0.0);

/// logs[monitor]; ValueError naming the callback and listing the keys there are.
double monitored(const EpochLogs& logs, const std::string& monitor, std::string_view owner);

inline Tensor encode_optional(const std::optional<double>& v) {
  return scalar_tensor(v ? *v : std::numeric_limits<double>::quiet_NaN(), kFloat64);
}
inline Tensor encode_count(std::int64_t v) { return scalar_tensor(static_cast<double>(v), kInt64); }

/// state[key]; ValueError naming the callback when it is missing or not a single value.
const Tensor& require(const std::map<std::string, Tensor>& state, const std::string& key, std::string_view owner);
std::optional<double> decode_optional(const std::map<std::string, Tensor>& state, const std::string& key,
                                      std::string_view owner);
std::int64_t decode_count(const std::map<std::string, Tensor>& state, const std::string& key, std::string_view owner);

}  // namespace descent::train::detail
