// descent::matmul against the raw CBLAS call it makes, on square matrices.
//
//   matmul_<case>/descent : descent::matmul(a, b) on preallocated inputs; the op allocates its
//                           output every iteration, which is part of its cost.
//   matmul_<case>/cblas   : cblas_sgemm / cblas_dgemm into a preallocated buffer, same inputs,
//                           same BLAS (the OpenBLAS descent links), same thread count.
//
// Cases: f32 (64 .. 2048), f64 (256, 1024), and f32_at_b: a.t() @ b with a.t() a transposed view,
// which descent hands to the BLAS as CblasTrans without a copy (the "allocs" counter,
// descent::memory_stats().allocations, shows one allocation per product: the output).
// Each benchmark reports GFLOP (2 n^3 flops per product) as a rate over wall time; the summary at
// the end prints the medians side by side with descent's overhead over raw CBLAS,
// 100 * (t_descent / t_cblas - 1).
//
// Run with --benchmark_repetitions=5 (bench/run.sh does): the summary then uses medians.

#include <cblas.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "summary.h"

namespace {

using descent::Tensor;

template <typename T>
constexpr descent::DType dtype_for() {
  return std::is_same_v<T, float> ? descent::kFloat32 : descent::kFloat64;
}

// Minor page faults of the process so far: a fresh (never touched) output page costs one.
long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

void set_faults(benchmark::State& state, long before) {
  state.counters["faults"] =
      benchmark::Counter(static_cast<double>(minor_faults() - before), benchmark::Counter::kAvgIterations);
}

void set_flops(benchmark::State& state, std::int64_t n) {
  const double gflop = 2.0 * static_cast<double>(n) * n * n / 1e9;
  state.counters["GFLOP"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
}

template <typename T>
void raw_gemm(CBLAS_TRANSPOSE ta, int n, const T* a, const T* b, T* c) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  } else {
    cblas_dgemm(CblasRowMajor, ta, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
  }
}

// state.range(0) = n, state.range(1) = threads. transpose_a: the left operand is a.t().
template <typename T, bool transpose_a>
void bm_descent(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  descent::set_num_threads(static_cast<int>(state.range(1)));
  descent::Generator gen(42);
  const Tensor a_storage = descent::randn({n, n}, gen, dtype_for<T>());
  const Tensor b = descent::randn({n, n}, gen, dtype_for<T>());
  const Tensor a = transpose_a ? a_storage.t() : a_storage;
  benchmark::DoNotOptimize(descent::matmul(a, b).data_ptr<T>());  // untimed warm-up call
  const std::int64_t allocs_before = descent::memory_stats().allocations;
  const long faults_before = minor_faults();
  for (auto _ : state) {
    Tensor c = descent::matmul(a, b);
    benchmark::DoNotOptimize(c.data_ptr<T>());
    benchmark::ClobberMemory();
  }
  set_faults(state, faults_before);
  state.counters["allocs"] = benchmark::Counter(
      static_cast<double>(descent::memory_stats().allocations - allocs_before), benchmark::Counter::kAvgIterations);
  set_flops(state, n);
}

template <typename T, bool transpose_a>
void bm_cblas(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  descent::set_num_threads(static_cast<int>(state.range(1)));  // sets the OpenBLAS threads too
  descent::Generator gen(42);
  const Tensor a = descent::randn({n, n}, gen, dtype_for<T>());
  const Tensor b = descent::randn({n, n}, gen, dtype_for<T>());
  std::vector<T> c(static_cast<std::size_t>(n * n));  // preallocated and already touched
  raw_gemm<T>(transpose_a ? CblasTrans : CblasNoTrans, static_cast<int>(n), a.data_ptr<T>(), b.data_ptr<T>(),
              c.data());  // untimed warm-up call
  const std::int64_t allocs_before = descent::memory_stats().allocations;  // 0 per call; one table layout
  const long faults_before = minor_faults();
  for (auto _ : state) {
    raw_gemm<T>(transpose_a ? CblasTrans : CblasNoTrans, static_cast<int>(n), a.data_ptr<T>(), b.data_ptr<T>(),
                c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["allocs"] = benchmark::Counter(
      static_cast<double>(descent::memory_stats().allocations - allocs_before), benchmark::Counter::kAvgIterations);
  set_faults(state, faults_before);
  set_flops(state, n);
}

void add_case(const std::string& name, benchmark::internal::Function* descent_fn,
              benchmark::internal::Function* cblas_fn, const std::vector<std::int64_t>& sizes,
              const std::vector<std::int64_t>& threads) {
  for (auto [impl, fn] : {std::pair{"descent", descent_fn}, std::pair{"cblas", cblas_fn}}) {
    auto* b = benchmark::RegisterBenchmark(("matmul_" + name + "/" + impl).c_str(), fn);
    b->ArgNames({"n", "threads"})->ArgsProduct({sizes, threads})->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
}

void print_summary(std::ostream& os, const descent_bench::Results& results) {
  os << "\nSummary (medians): descent::matmul vs raw CBLAS. overhead = t_descent / t_cblas - 1, by wall time\n"
        "and, for 1 thread, by the benchmark thread's CPU time (robust to other processes taking the core).\n"
        "faults/iter: minor page faults per call (cblas / descent); allocs/iter: descent buffers allocated.\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-9s %-17s %13s %15s %10s %10s %7s %12s\n", "case", "args", "cblas GFLOP/s",
                "descent GFLOP/s", "ovh(wall)", "ovh(cpu)", "allocs", "faults/iter");
  os << line;
  for (const auto& [name, by_args] : results) {
    const std::string suffix = "/descent";
    if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string base = name.substr(0, name.size() - suffix.size());
    const auto raw = results.find(base + "/cblas");
    if (raw == results.end()) continue;
    // Rows by thread count, then size (the map's order is by text: "n:1024" before "n:128").
    std::vector<std::pair<std::pair<long, long>, std::string>> order;
    for (const auto& [args, d] : by_args) {
      long n = 0, threads = 0;
      std::sscanf(args.c_str(), "n:%ld/threads:%ld", &n, &threads);
      order.push_back({{threads, n}, args});
    }
    std::sort(order.begin(), order.end());
    for (const auto& [key, args] : order) {
      const descent_bench::Result& d = by_args.at(args);
      const auto r = raw->second.find(args);
      if (r == raw->second.end()) continue;
      const double wall = 100.0 * (d.seconds / r->second.seconds - 1.0);
      char cpu_text[32] = "-";
      if (args.size() >= 10 && args.compare(args.size() - 10, 10, "/threads:1") == 0) {
        std::snprintf(cpu_text, sizeof cpu_text, "%+.1f%%", 100.0 * (d.cpu_seconds / r->second.cpu_seconds - 1.0));
      }
      const auto allocs = d.counters.find("allocs");
      char allocs_text[32] = "-";
      if (allocs != d.counters.end()) std::snprintf(allocs_text, sizeof allocs_text, "%.2f", allocs->second);
      char faults_text[32];
      std::snprintf(faults_text, sizeof faults_text, "%.0f / %.0f", r->second.counters.at("faults"),
                    d.counters.at("faults"));
      std::snprintf(line, sizeof line, "%-9s %-17s %13.1f %15.1f %+9.1f%% %10s %7s %12s\n",
                    base.substr(std::string("matmul_").size()).c_str(), args.c_str(), r->second.counters.at("GFLOP"),
                    d.counters.at("GFLOP"), wall, cpu_text, allocs_text, faults_text);
      os << line;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // descent's default thread count is every core; OpenBLAS gets the same number.
  const std::int64_t all = descent::get_num_threads();
  std::vector<std::int64_t> threads{1};
  if (all > 1) threads.push_back(all);

  add_case("f32", bm_descent<float, false>, bm_cblas<float, false>, {64, 128, 256, 512, 1024, 2048}, threads);
  add_case("f64", bm_descent<double, false>, bm_cblas<double, false>, {256, 1024}, threads);
  add_case("f32_at_b", bm_descent<float, true>, bm_cblas<float, true>, {256, 1024}, threads);
  return descent_bench::run_with_summary(argc, argv, print_summary);
}
