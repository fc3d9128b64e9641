// History's columns and its JSON form. Doubles are written in their shortest round-trip form, so a
// history read back is bit-identical; NaN and infinities (JSON has none) are written as null and
// read back as NaN.

#include "descent/train/history.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "internal/check.h"

namespace descent::train {

namespace {

using nlohmann::json;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double read_number(const json& j, std::string_view what) {
  if (j.is_null()) return std::numeric_limits<double>::quiet_NaN();
  DESCENT_CHECK_VALUE(j.is_number(), "History.from_json: {} must be a number, got {}", what, j.dump());
  return j.get<double>();
}

}  // namespace

std::vector<double> History::column(const std::string& key) const {
  std::vector<double> out;
  out.reserve(epochs.size());
  for (const auto& row : epochs) {
    const auto it = row.find(key);
    out.push_back(it == row.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
  }
  return out;
}

std::vector<std::string> History::keys() const {
  std::vector<std::string> out;
  bool has_epoch = false;
  for (const auto& row : epochs) {
    for (const auto& [key, value] : row) {
      if (key == "epoch") {
        has_epoch = true;
      } else if (std::find(out.begin(), out.end(), key) == out.end()) {
        out.push_back(key);
      }
    }
  }
  if (has_epoch) out.insert(out.begin(), "epoch");
  return out;
}

std::string History::to_json() const {
  json rows = json::array();
  for (const auto& row : epochs) {
    json r = json::object();
    for (const auto& [key, value] : row) r[key] = number(value);
    rows.push_back(std::move(r));
  }
  // Steps as columns: a long run has many of them, and a chart reads them as columns anyway.
  json epoch = json::array(), step = json::array(), loss = json::array(), lr = json::array();
  for (const StepRecord& s : steps) {
    epoch.push_back(s.epoch);
    step.push_back(s.step);
    loss.push_back(number(s.loss));
    lr.push_back(number(s.lr));
  }
  json out = {{"epochs", std::move(rows)},
              {"steps", {{"epoch", std::move(epoch)}, {"step", std::move(step)}, {"loss", std::move(loss)},
                         {"lr", std::move(lr)}}},
              {"stop_reason", stop_reason}};
  return out.dump();
}

History History::from_json(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ValueError(fmt::format("History.from_json: not valid JSON: {}", e.what()));
  }
  DESCENT_CHECK_VALUE(j.is_object() && j.contains("epochs") && j["epochs"].is_array(),
                      "History.from_json: expected an object with an \"epochs\" array");
  History h;
  for (const json& row : j["epochs"]) {
    DESCENT_CHECK_VALUE(row.is_object(), "History.from_json: epoch {} is not an object", h.epochs.size());
    std::map<std::string, double> r;
    for (const auto& [key, value] : row.items()) r[key] = read_number(value, "epochs[].\"" + key + "\"");
    h.epochs.push_back(std::move(r));
  }
  if (j.contains("steps")) {
    const json& s = j["steps"];
    auto column = [&](const char* name) -> const json& {
      DESCENT_CHECK_VALUE(s.is_object() && s.contains(name) && s[name].is_array(),
                          "History.from_json: \"steps\" lacks the array \"{}\"", name);
      return s[name];
    };
    const json &epoch = column("epoch"), &step = column("step"), &loss = column("loss"), &lr = column("lr");
    DESCENT_CHECK_VALUE(step.size() == epoch.size() && loss.size() == epoch.size() && lr.size() == epoch.size(),
                        "History.from_json: the \"steps\" columns differ in length ({}, {}, {}, {})", epoch.size(),
                        step.size(), loss.size(), lr.size());
    h.steps.reserve(epoch.size());
    for (std::size_t i = 0; i < epoch.size(); ++i) {
      DESCENT_CHECK_VALUE(epoch[i].is_number_integer() && step[i].is_number_integer(),
                          "History.from_json: steps {}: epoch and step must be integers", i);
      h.steps.push_back({epoch[i].get<std::int64_t>(), step[i].get<std::int64_t>(), read_number(loss[i], "a step's loss"),
                         read_number(lr[i], "a step's lr")});
    }
  }
  if (j.contains("stop_reason")) {
    DESCENT_CHECK_VALUE(j["stop_reason"].is_string(), "History.from_json: \"stop_reason\" must be a string");
    h.stop_reason = j["stop_reason"].get<std::string>();
  }
  return h;
}

}  // namespace descent::train
