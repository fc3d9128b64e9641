// to_tabular: a CSV table's columns as feature and target tensors, and class labels as indices.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "descent/data/csv.h"
#include "internal/check.h"

namespace descent::data {
namespace {

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// from_chars parses without locale and without allocating; it rejects a leading '+', which people write.
template <typename T>
std::optional<T> parse_number(std::string_view s) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-') s.remove_prefix(1);
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::string join_quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// Builds the column lookup and reports problems with the whole table at once, naming its file.
class Columns {
 public:
  explicit Columns(const CsvTable& table) : table_(table), file_(table.path.empty() ? "csv" : table.path.string()) {
    for (std::size_t i = 0; i < table.header.size(); ++i) index_.emplace(table.header[i], i);
  }

  const std::string& file() const { return file_; }

  std::size_t find(const std::string& name, std::string_view role) const {
    const auto it = index_.find(name);
    if (it == index_.end()) {
      throw ValueError(fmt::format("{}: {} column '{}' not found; the columns are {}", file_, role, name,
                                   join_quoted(table_.header)));
    }
    return it->second;
  }

  // The file line of row r (counting the header as line 1 when the table was built by hand).
  std::size_t line(std::size_t r) const { return r < table_.line_numbers.size() ? table_.line_numbers[r] : r + 2; }

  double number(std::size_t r, std::size_t column) const {
    const std::string_view text = trim_spaces(table_.rows[r][column]);
    const std::string& name = table_.header[column];
    if (text.empty()) throw ValueError(fmt::format("{}:{}: column '{}': empty value", file_, line(r), name));
    const std::optional<double> v = parse_number<double>(text);
    if (!v) throw ValueError(fmt::format("{}:{}: column '{}': '{}' is not a number", file_, line(r), name, text));
    // NaN and infinities (and values beyond float32) would poison training silently.
    if (!std::isfinite(*v) || std::abs(*v) > std::numeric_limits<float>::max()) {
      throw ValueError(
          fmt::format("{}:{}: column '{}': '{}' is not a finite float32 number", file_, line(r), name, text));
    }
    return *v;
  }

 private:
  const CsvTable& table_;
  std::string file_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Integer labels ("0".."9", "-1", "10") sort numerically; any other label makes the order lexicographic.
std::vector<std::string> sorted_classes(const std::set<std::string>& labels) {
  std::vector<std::pair<std::int64_t, std::string>> numeric;
  for (const std::string& label : labels) {
    const std::optional<std::int64_t> v = parse_number<std::int64_t>(label);
    if (!v) return {labels.begin(), labels.end()};  // std::set is already lexicographic
    numeric.emplace_back(*v, label);
  }
  std::sort(numeric.begin(), numeric.end());
  std::vector<std::string> out;
  for (auto& [value, label] : numeric) out.push_back(std::move(label));
  return out;
}

}  // namespace

TabularData to_tabular(const CsvTable& table, const TabularOptions& options) {
  const Columns columns(table);
  const std::string& file = columns.file();
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    DESCENT_CHECK_VALUE(table.rows[r].size() == table.header.size(), "{}:{}: expected {} fields, found {}", file,
                        columns.line(r), table.header.size(), table.rows[r].size());
  }
  DESCENT_CHECK_VALUE(options.task == Task::Regression || options.targets.size() <= 1,
                      "{}: a classification has one target column, got {} ({})", file, options.targets.size(),
                      join_quoted(options.targets));

  std::vector<std::size_t> target_columns;
  std::set<std::string> targets;
  for (const std::string& name : options.targets) {
    target_columns.push_back(columns.find(name, "target"));
    DESCENT_CHECK_VALUE(targets.insert(name).second, "{}: target column '{}' is named twice", file, name);
  }

  TabularData out;
  std::vector<std::size_t> feature_columns;
  if (options.features.empty()) {
    for (std::size_t c = 0; c < table.header.size(); ++c) {
      if (!targets.count(table.header[c])) feature_columns.push_back(c);
    }
  } else {
    std::set<std::string> seen;
    for (const std::string& name : options.features) {
      feature_columns.push_back(columns.find(name, "feature"));
      DESCENT_CHECK_VALUE(!targets.count(name), "{}: column '{}' is both a feature and a target", file, name);
      DESCENT_CHECK_VALUE(seen.insert(name).second, "{}: feature column '{}' is named twice", file, name);
    }
  }
  for (std::size_t c : feature_columns) out.feature_names.push_back(table.header[c]);
  out.target_names = options.targets;

  const auto n = static_cast<std::int64_t>(table.rows.size());
  const auto f = static_cast<std::int64_t>(feature_columns.size());
  out.features = empty({n, f}, kFloat32);
  float* x = out.features.data_ptr<float>();
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t j = 0; j < f; ++j) x[r * f + j] = static_cast<float>(columns.number(r, feature_columns[j]));
  }

  if (target_columns.empty()) return out;
  if (options.task == Task::Regression) {
    const auto t = static_cast<std::int64_t>(target_columns.size());
    out.targets = empty({n, t}, kFloat32);
    float* y = out.targets.data_ptr<float>();
    for (std::int64_t r = 0; r < n; ++r) {
      for (std::int64_t j = 0; j < t; ++j) y[r * t + j] = static_cast<float>(columns.number(r, target_columns[j]));
    }
    return out;
  }

  // Classification: labels (trimmed) -> indices, through the fixed list or one built from the data.
  const std::size_t target = target_columns[0];
  const std::string& name = table.header[target];
  std::vector<std::string_view> labels(table.rows.size());
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    labels[r] = trim_spaces(table.rows[r][target]);
    DESCENT_CHECK_VALUE(!labels[r].empty(), "{}:{}: column '{}': empty label", file, columns.line(r), name);
  }
  if (options.classes.empty()) {
    out.classes = sorted_classes(std::set<std::string>(labels.begin(), labels.end()));
  } else {
    out.classes = options.classes;
  }
  std::unordered_map<std::string_view, std::int64_t> index;
  for (std::size_t i = 0; i < out.classes.size(); ++i) {
    const bool unique = index.emplace(out.classes[i], static_cast<std::int64_t>(i)).second;
    DESCENT_CHECK_VALUE(unique, "{}: class '{}' appears twice in the class list", file, out.classes[i]);
  }
  out.targets = empty({n}, kInt64);
  std::int64_t* y = out.targets.data_ptr<std::int64_t>();
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto it = index.find(labels[r]);
    if (it == index.end()) {
      throw ValueError(fmt::format("{}:{}: column '{}': label '{}' is not one of the {} known classes ({})", file,
                                   columns.line(r), name, labels[r], out.classes.size(), join_quoted(out.classes)));
    }
    y[r] = it->second;
  }
  return out;
}

}  // namespace descent::data
