#pragma once
// A console reporter that also keeps, for every benchmark, the median of its repetitions (or its
// single run without --benchmark_repetitions), and prints summary tables from them at the end:
// the comparisons (descent vs raw CBLAS, 1 vs 2 threads) that the plain console output leaves to
// the reader. For machine-readable output add --benchmark_out=FILE --benchmark_out_format=json.

#include <benchmark/benchmark.h>

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace descent_bench {

struct Result {
  double seconds = 0;                       // median wall time of one iteration
  double cpu_seconds = 0;                   // median CPU time of one iteration, benchmark thread only
  std::map<std::string, double> counters;   // median user counters (rates are already per second)
};

/// results[function name][args], e.g. results["matmul_f32/descent"]["n:256/threads:1"].
using Results = std::map<std::string, std::map<std::string, Result>>;

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  using Summary = std::function<void(std::ostream&, const Results&)>;
  explicit SummaryReporter(Summary summary) : ConsoleReporter(OO_Tabular), summary_(std::move(summary)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      if (!median && !single) continue;
      Result result;
      result.seconds = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      result.cpu_seconds = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      for (const auto& [name, counter] : run.counters) result.counters[name] = counter.value;
      results_[run.run_name.function_name][run.run_name.args] = result;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    if (summary_) summary_(GetOutputStream(), results_);
  }

 private:
  Summary summary_;
  Results results_;
};

/// Runs the registered benchmarks with a SummaryReporter; the body of each benchmark's main().
inline int run_with_summary(int argc, char** argv, SummaryReporter::Summary summary) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter(std::move(summary));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace descent_bench
