// A training-step-like loop: matmul (BLAS threads) followed by add and relu (descent's OpenMP
// kernels, above kParallelGrain), repeated, with 1 thread and with every core. The Google
// Benchmark programs time one op at a time; this shows what happens when the two thread pools
// (OpenBLAS's and OpenMP's) take turns, which is how a network runs. Prints the loop's total wall
// time and the median and 90th-percentile time of each op, with its page faults per call.
//
// Usage: descent_bench_mixed [steps=1000] [n=256] [elements=65536]
// The thread pools' waiting policy comes from the environment (OMP_WAIT_POLICY, GOMP_SPINCOUNT,
// OPENBLAS_THREAD_TIMEOUT), so the same binary compares them.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "descent/descent.h"

namespace {
using Clock = std::chrono::steady_clock;

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double micros(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Percentiles {
  double p50, p90;
};

Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[v.size() * 9 / 10]};
}

void run(int threads, int steps, std::int64_t n, std::int64_t elements) {
  descent::set_num_threads(threads);
  descent::Generator gen(3);
  const descent::Tensor a = descent::randn({n, n}, gen);
  const descent::Tensor b = descent::randn({n, n}, gen);
  const descent::Tensor x = descent::randn({elements / 1024, 1024}, gen);
  const descent::Tensor y = descent::randn({elements / 1024, 1024}, gen);
  std::vector<double> t_mm, t_add, t_relu;
  long f_mm = 0, f_add = 0, f_relu = 0;  // minor page faults (fresh output pages) per op
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i) {
    long f0 = minor_faults();
    auto t0 = Clock::now();
    { const descent::Tensor c = descent::matmul(a, b); }
    t_mm.push_back(micros(t0));
    long f1 = minor_faults();
    f_mm += f1 - f0;
    t0 = Clock::now();
    const descent::Tensor s = descent::add(x, y);
    t_add.push_back(micros(t0));
    f0 = minor_faults();
    f_add += f0 - f1;
    t0 = Clock::now();
    { const descent::Tensor r = descent::relu(s); }
    t_relu.push_back(micros(t0));
    f_relu += minor_faults() - f0;
  }
  const double total_ms = micros(start) / 1e3;
  const Percentiles mm = percentiles(t_mm), add = percentiles(t_add), relu = percentiles(t_relu);
  std::printf("threads %d: %d steps in %7.0f ms | matmul %dx%d p50 %7.1f p90 %7.1f us %5.1f faults | add %lld"
              " p50 %7.1f p90 %7.1f us %5.1f faults | relu p50 %7.1f p90 %7.1f us %5.1f faults\n",
              threads, steps, total_ms, static_cast<int>(n), static_cast<int>(n), mm.p50, mm.p90,
              static_cast<double>(f_mm) / steps, static_cast<long long>(elements), add.p50, add.p90,
              static_cast<double>(f_add) / steps, relu.p50, relu.p90, static_cast<double>(f_relu) / steps);
}
}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 1000;
  const std::int64_t n = argc > 2 ? std::atoll(argv[2]) : 256;
  const std::int64_t elements = argc > 3 ? std::atoll(argv[3]) : 65536;
  const int all = descent::get_num_threads();
  std::printf("OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s OPENBLAS_THREAD_TIMEOUT=%s\n",
              std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "<unset>",
              std::getenv("GOMP_SPINCOUNT") ? std::getenv("GOMP_SPINCOUNT") : "<unset>",
              std::getenv("OPENBLAS_THREAD_TIMEOUT") ? std::getenv("OPENBLAS_THREAD_TIMEOUT") : "<unset>");
  run(1, steps, n, elements);
  if (all > 1) run(all, steps, n, elements);
  return 0;
}
