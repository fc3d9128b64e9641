#pragma once
// Loads tests/reference/optim.json (written by tools/gen_reference_optim.py) once, for the
// optimizer and schedule reference tests.

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace optim_reference {

struct Fixture {
  nlohmann::json root = nlohmann::json::object();
  std::string error;  // why loading failed, if it did
};

inline const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    const std::string path = std::string(DESCENT_REFERENCE_DIR) + "/optim.json";
    std::ifstream in(path);
    if (!in) {
      out.error = "cannot open " + path + " (regenerate with /usr/bin/python3 tools/gen_reference_optim.py)";
      return out;
    }
    try {
      out.root = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      out.error = "cannot parse " + path + ": " + e.what();
    }
    return out;
  }();
  return f;
}

/// The cases under `key` ("optimizers", "lbfgs", "schedules"); empty if the fixture failed to load.
inline const nlohmann::json& cases(const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  const Fixture& f = fixture();
  if (!f.error.empty() || !f.root.contains(key)) return empty;
  return f.root.at(key);
}

/// A gtest-safe parameter name.
inline std::string sanitize(std::string name) {
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace optim_reference
