#pragma once
// CSV tables: a header row, then one row per example (RFC 4180: fields may be quoted with '"', a
// quote inside a quoted field is doubled, quoted fields may hold the delimiter). Leading and trailing
// spaces around unquoted fields are ignored; empty lines are skipped; '\r\n' line ends are accepted.
//
//   CsvTable table = read_csv("iris.csv");
//   TabularData data = to_tabular(table, {.targets = {"species"}, .task = Task::Classification});
//   // data.features: float32 [150, 4]; data.targets: int64 [150]; data.classes: {"setosa", ...}

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::data {

struct CsvTable {
  std::filesystem::path path;                    // where it was read from (for error messages)
  std::vector<std::string> header;               // column names, unique
  std::vector<std::vector<std::string>> rows;    // every row has header.size() fields
  std::vector<std::size_t> line_numbers;         // the 1-based file line of each row
};

/// Reads a CSV file. Throws IOError naming the file (and the line where it applies): missing file,
/// empty file, a duplicate or empty column name, a row with another number of fields than the header
/// ("data.csv:7: expected 4 fields, found 3"), an unterminated quote.
CsvTable read_csv(const std::filesystem::path& path, char delimiter = ',');

/// Writes a table (quoting fields that need it), atomically.
void write_csv(const std::filesystem::path& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows);

enum class Task { Classification, Regression };

struct TabularOptions {
  /// Target column names: one for classification, one or more for regression. May be empty to read
  /// features only (prediction input).
  std::vector<std::string> targets;
  Task task = Task::Classification;
  /// Feature columns in order; empty = every column that is not a target, in the file's order.
  std::vector<std::string> features = {};
  /// A fixed label -> index mapping (index = position), e.g. the one saved with a trained model;
  /// empty = build it from the data: labels that are all integers sort numerically, others
  /// lexicographically.
  std::vector<std::string> classes = {};
};

struct TabularData {
  Tensor features;                         // float32 [rows, features]
  Tensor targets;                          // classification: int64 [rows]; regression: float32 [rows, targets]; undefined without targets
  std::vector<std::string> feature_names;
  std::vector<std::string> target_names;
  std::vector<std::string> classes;        // classification: class index -> label
};

/// Selects features and targets from a table. Throws ValueError naming the file and column: a target
/// or feature column that does not exist (listing the columns there are), a non-numeric or empty
/// feature or regression target value ("data.csv:12: column 'age': 'abc' is not a number"), a label
/// not in a fixed class list, a classification with several targets.
TabularData to_tabular(const CsvTable& table, const TabularOptions& options);

}  // namespace descent::data
