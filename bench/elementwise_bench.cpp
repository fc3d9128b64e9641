// Elementwise ops and reductions, float32, contiguous [rows, cols] inputs (cols = min(N, 1024)).
//
//   <op>/n:N/threads:T       the op on N elements (1k .. 16M) with descent::set_num_threads(T),
//                            T = 1 and every core; reports GB (bytes read + written, 1e9) as a rate.
//   grain/<op>/n:N/threads:T the same op at sizes around kParallelGrain (src/kernels/iterate.h),
//                            T = 1 and every core, with the median single call (p50_us) as well:
//                            shows where splitting a kernel across threads starts to pay.
//
// Every op allocates its output each iteration (as in real use); one untimed call comes first.
// "faults" counts minor page faults per call (first touches of fresh output memory). The summary
// at the end prints the GB/s medians as tables, and for the grain runs the speedup
// t(1 thread) / t(all threads). Run with --benchmark_repetitions=5 (bench/run.sh does): the
// summary then uses medians.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "kernels/iterate.h"  // kParallelGrain, printed with the summary
#include "summary.h"

namespace {

using descent::Tensor;

// One op: what it computes on x ([rows, cols]), y (same shape) and bias ([cols]), and the bytes
// it moves per call as a multiple of x's bytes plus a multiple of bias's bytes.
struct Op {
  const char* name;
  std::function<Tensor(const Tensor& x, const Tensor& y, const Tensor& bias)> run;
  double x_bytes;     // (inputs read + outputs written) in units of x.numel() * sizeof(float)
  double bias_bytes;  // in units of bias.numel() * sizeof(float)
};

const std::vector<Op>& ops() {
  static const std::vector<Op> list = {
      {"add", [](const Tensor& x, const Tensor& y, const Tensor&) { return descent::add(x, y); }, 3, 0},
      {"add_bcast", [](const Tensor& x, const Tensor&, const Tensor& b) { return descent::add(x, b); }, 2, 1},
      {"mul", [](const Tensor& x, const Tensor& y, const Tensor&) { return descent::mul(x, y); }, 3, 0},
      {"exp", [](const Tensor& x, const Tensor&, const Tensor&) { return descent::exp(x); }, 2, 0},
      {"relu", [](const Tensor& x, const Tensor&, const Tensor&) { return descent::relu(x); }, 2, 0},
      {"sigmoid", [](const Tensor& x, const Tensor&, const Tensor&) { return descent::sigmoid(x); }, 2, 0},
      {"sum_all", [](const Tensor& x, const Tensor&, const Tensor&) { return descent::sum(x); }, 1, 0},
      // [rows, cols] -> [cols]: the gradient of a bias added to a batch.
      {"sum_dim0", [](const Tensor& x, const Tensor&, const Tensor&) { return descent::sum(x, {0}); }, 1, 1},
  };
  return list;
}

// Minor page faults of the process so far: a fresh (never touched) output page costs one.
long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

int g_all_threads = 1;  // descent's default: every core

// state.range(0) = N elements, run with `threads` threads. With per_call, every call is also
// timed on its own and the median call reported as p50_us: unlike the mean, it ignores the calls
// where a thread of the team had to wait for a core that another process was using.
void bm_op(benchmark::State& state, const Op& op, int threads, bool per_call) {
  const std::int64_t n = state.range(0);
  descent::set_num_threads(threads);
  const std::int64_t cols = std::min<std::int64_t>(n, 1024);
  const std::int64_t rows = n / cols;
  descent::Generator gen(7);
  const Tensor x = descent::randn({rows, cols}, gen);
  const Tensor y = descent::randn({rows, cols}, gen);
  const Tensor bias = descent::randn({cols}, gen);
  benchmark::DoNotOptimize(op.run(x, y, bias).data_ptr<float>());  // untimed warm-up call
  const long faults_before = minor_faults();
  std::vector<double> calls;  // seconds per call, when per_call
  if (per_call) {
    calls.reserve(1 << 20);
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      Tensor out = op.run(x, y, bias);
      benchmark::DoNotOptimize(out.data_ptr<float>());
      benchmark::ClobberMemory();
      calls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  } else {
    for (auto _ : state) {
      Tensor out = op.run(x, y, bias);
      benchmark::DoNotOptimize(out.data_ptr<float>());
      benchmark::ClobberMemory();
    }
  }
  if (!calls.empty()) {
    std::nth_element(calls.begin(), calls.begin() + calls.size() / 2, calls.end());
    state.counters["p50_us"] = calls[calls.size() / 2] * 1e6;
  }
  const double bytes = (op.x_bytes * static_cast<double>(rows * cols) + op.bias_bytes * cols) * sizeof(float);
  state.counters["faults"] =
      benchmark::Counter(static_cast<double>(minor_faults() - faults_before), benchmark::Counter::kAvgIterations);
  state.counters["GB"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

namespace {

const std::vector<std::int64_t> kSweepSizes = {1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24};
const std::vector<std::int64_t> kGrainSizes = {4096, 8192, 16384, 24576, 32768, 49152, 65536, 131072, 262144};
const std::vector<const char*> kGrainOps = {"add", "add_bcast", "exp", "relu"};

std::string size_name(std::int64_t n) {
  if (n >= (1 << 20) && n % (1 << 20) == 0) return std::to_string(n >> 20) + "M";
  if (n >= (1 << 10) && n % (1 << 10) == 0) return std::to_string(n >> 10) + "k";
  return std::to_string(n);
}

void print_summary(std::ostream& os, const descent_bench::Results& results) {
  char cell[160];
  std::vector<int> thread_counts{1};
  if (g_all_threads > 1) thread_counts.push_back(g_all_threads);
  for (int threads : thread_counts) {
    os << "\nSummary (medians): GB/s (bytes read + written / 1e9 / s), float32, " << threads << " thread(s)\n";
    std::snprintf(cell, sizeof cell, "%-10s", "op");
    os << cell;
    for (std::int64_t n : kSweepSizes) {
      std::snprintf(cell, sizeof cell, "%9s", size_name(n).c_str());
      os << cell;
    }
    os << "\n";
    for (const Op& op : ops()) {
      const auto it = results.find(op.name);
      if (it == results.end()) continue;
      std::snprintf(cell, sizeof cell, "%-10s", op.name);
      os << cell;
      for (std::int64_t n : kSweepSizes) {
        const auto r = it->second.find("n:" + std::to_string(n) + "/threads:" + std::to_string(threads));
        if (r == it->second.end()) {
          std::snprintf(cell, sizeof cell, "%9s", "-");
        } else {
          std::snprintf(cell, sizeof cell, "%9.2f", r->second.counters.at("GB"));
        }
        os << cell;
      }
      os << "\n";
    }
  }

  os << "\nParallel grain check (kParallelGrain = " << descent::kernels::kParallelGrain << " elements): 1 thread vs "
     << g_all_threads << ".\nmean: median over repetitions of the mean time per call; p50: median single call "
        "(robust to calls stalled\nwaiting for a core another process holds). speedup = t(1 thread) / t("
     << g_all_threads << " threads).\n";
  std::snprintf(cell, sizeof cell, "%-10s %6s %11s %11s %8s %11s %11s %8s\n", "op", "n", "mean1 (us)", "meanN (us)",
                "speedup", "p50_1 (us)", "p50_N (us)", "speedup");
  os << cell;
  for (const char* name : kGrainOps) {
    const auto it = results.find(std::string("grain/") + name);
    if (it == results.end()) continue;
    for (std::int64_t n : kGrainSizes) {
      const auto one = it->second.find("n:" + std::to_string(n) + "/threads:1");
      const auto all = it->second.find("n:" + std::to_string(n) + "/threads:" + std::to_string(g_all_threads));
      if (one == it->second.end() || all == it->second.end()) continue;
      const double p1 = one->second.counters.at("p50_us");
      const double pn = all->second.counters.at("p50_us");
      std::snprintf(cell, sizeof cell, "%-10s %6s %11.2f %11.2f %8.2f %11.2f %11.2f %8.2f\n", name,
                    size_name(n).c_str(), one->second.seconds * 1e6, all->second.seconds * 1e6,
                    one->second.seconds / all->second.seconds, p1, pn, p1 / pn);
      os << cell;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  g_all_threads = descent::get_num_threads();
  std::vector<std::int64_t> threads{1};
  if (g_all_threads > 1) threads.push_back(g_all_threads);
  for (const Op& op : ops()) {
    auto* b = benchmark::RegisterBenchmark(
        op.name, [&op](benchmark::State& s) { bm_op(s, op, static_cast<int>(s.range(1)), false); });
    b->ArgNames({"n", "threads"})->ArgsProduct({kSweepSizes, threads})->MinTime(0.25)->UseRealTime()->Unit(
        benchmark::kMicrosecond);
  }
  for (const char* name : kGrainOps) {
    for (const Op& op : ops()) {
      if (std::string(op.name) != name) continue;
      auto* b = benchmark::RegisterBenchmark((std::string("grain/") + name).c_str(),
                                             [&op](benchmark::State& s) { bm_op(s, op, static_cast<int>(s.range(1)), true); });
      b->ArgNames({"n", "threads"})->ArgsProduct({kGrainSizes, threads})->MinTime(0.2)->UseRealTime()->Unit(
          benchmark::kMicrosecond);
    }
  }
  return descent_bench::run_with_summary(argc, argv, print_summary);
}
