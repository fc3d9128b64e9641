#pragma once
// The train, eval, predict and info commands of the descent program (explain and descend have
// their own headers). Each returns the exit code and throws descent::Error
// for the caller to print; output goes to `out` (results, progress) and `err` (warnings).

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace descent::cli {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;  // --set key=value
  std::optional<std::string> output;   // --output DIR (the run folder)
  bool resume = false;
  bool quiet = false;
  bool no_diagnostics = false;  // --no-diagnostics: training.diagnostics = false
};
int train_command(const TrainArgs& args, std::ostream& out, std::ostream& err);

struct EvalArgs {
  std::string model;                   // run folder or .safetensors
  std::optional<std::string> data;     // CSV or IDX images (default: the configuration's test data)
  std::optional<std::string> labels;   // IDX labels
  std::optional<std::string> json;     // write the metrics here too
};
int eval_command(const EvalArgs& args, std::ostream& out, std::ostream& err);

struct PredictArgs {
  std::string model;
  std::string input;                   // CSV or IDX images
  std::string output;                  // CSV ("-": standard output)
  std::int64_t batch_size = 256;
};
int predict_command(const PredictArgs& args, std::ostream& out, std::ostream& err);

struct InfoArgs {
  std::string model;
};
int info_command(const InfoArgs& args, std::ostream& out, std::ostream& err);

}  // namespace descent::cli
