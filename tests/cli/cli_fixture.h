#pragma once
// Helpers for the CLI tests: a temporary folder per test, small files written into it, and the
// descent program run as a user runs it (exit code, standard output and error captured).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace descent::cli::testing {

namespace fs = std::filesystem;

// A CSV of three Gaussian blobs in the plane (centres (0, 3), (3, -2), (-3, -2), sd 0.5),
// per_class rows of each, interleaved: columns x, y and a label, the colour's name
// ("x,y,colour") or the class index ("x,y,label").
inline std::string blobs_csv_with(int per_class, unsigned seed, bool integer_labels) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> n(0, 0.5);
  const char* names[] = {"red", "green", "blue"};
  const double cx[] = {0, 3, -3}, cy[] = {3, -2, -2};
  std::string csv = integer_labels ? "x,y,label\n" : "x,y,colour\n";
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < 3; ++c) {
      // The draws stay inside the calls, as the tests' data was made (their order is the compiler's).
      if (integer_labels) {
        csv += fmt::format("{:.4f},{:.4f},{}\n", cx[c] + n(gen), cy[c] + n(gen), c);
      } else {
        csv += fmt::format("{:.4f},{:.4f},{}\n", cx[c] + n(gen), cy[c] + n(gen), names[c]);
      }
    }
  }
  return csv;
}
inline std::string blobs_csv(int per_class, unsigned seed) { return blobs_csv_with(per_class, seed, false); }
inline std::string blobs_csv_integer_labels(int per_class, unsigned seed) {
  return blobs_csv_with(per_class, seed, true);
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("descent-cli-") + info->test_suite_name() + "-" + info->name() + "-" + std::to_string(std::random_device{}()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  /// Runs `descent ARGS` in the test's folder.
  RunResult descent(const std::string& args) const {
    const fs::path out = dir_ / ".stdout", err = dir_ / ".stderr";
    const std::string command = "cd '" + dir_.string() + "' && '" DESCENT_PROGRAM "' " + args + " > '" + out.string() + "' 2> '" +
                                err.string() + "'";
    const int status = std::system(command.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path dir_;
};

}  // namespace descent::cli::testing
