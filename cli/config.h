#pragma once
// Run configurations: a TOML or JSON file (chosen by its extension) plus `--set key=value` overrides,
// checked against the schema below and completed with its defaults. Every error names the file, the
// key and, for TOML, the line: "fashion.toml:12: unknown key 'optimizer.lrr'",
// "--set training.epochs: expected an integer, got \"ten\"".
//
// The resolved configuration (every key, defaults included) is saved with each run and checkpoint,
// so a run can be reproduced and a checkpoint rebuilt from it alone.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace descent::cli {

class Config {
 public:
  /// Reads path (.toml or .json), applies the overrides ("training.epochs=5", in order), validates
  /// and fills in defaults. Throws descent::ValueError / IOError with the message to show.
  static Config load(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});
  /// A configuration from JSON text already resolved once (the one stored in a checkpoint); validated again.
  static Config from_resolved(const std::string& json_text, const std::string& origin);
  /// Validates a JSON document (applying overrides first) and fills in defaults.
  static Config from_json(nlohmann::json document, const std::string& origin,
                          const std::vector<std::string>& overrides = {},
                          std::map<std::string, int> lines = {});

  const nlohmann::json& json() const { return json_; }
  /// Where it came from ("fashion.toml"), for messages.
  const std::string& origin() const { return origin_; }

  // Typed access by dotted key ("training.epochs"); the schema guarantees presence and type, except
  // for keys whose default is null (optional: has() tells).
  bool has(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::string string(const std::string& key) const;
  std::vector<std::int64_t> integers(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  /// The keys of a section whose values are set (not null), e.g. the optimizer options given.
  std::vector<std::string> set_keys(const std::string& section) const;

  /// "fashion.toml:12: " (or "fashion.toml: ") for an error about key.
  std::string where(const std::string& key) const;

 private:
  nlohmann::json json_;
  std::string origin_;
  std::map<std::string, int> lines_;
};

/// The documented list of keys, for `descent train --help-config`.
std::string describe_schema();

}  // namespace descent::cli
