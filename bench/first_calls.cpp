// The first calls of descent::matmul in a fresh process, one at a time: wall time and minor page
// faults of each call, next to raw cblas_sgemm into one preallocated buffer. Google Benchmark
// reports the steady state (after warm-up and many iterations); this shows how long it takes to
// get there, i.e. how many calls pay for first-touching a freshly allocated output.
//
// Usage: descent_bench_first_calls [n=1024] [calls=25] [threads=1]

#include <cblas.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "descent/descent.h"

namespace {
long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

template <typename F>
void measure(const char* label, int calls, F&& call) {
  std::printf("%-8s", label);
  for (int i = 0; i < calls; ++i) {
    const long faults = minor_faults();
    const auto start = std::chrono::steady_clock::now();
    call();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf(" %.1f/%ld", ms, minor_faults() - faults);
  }
  std::printf("\n");
}
}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1024;
  const int calls = argc > 2 ? std::atoi(argv[2]) : 25;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  descent::set_num_threads(threads);
  descent::Generator gen(42);
  const descent::Tensor a = descent::randn({n, n}, gen);
  const descent::Tensor b = descent::randn({n, n}, gen);
  std::printf("first %d calls, %dx%d float32, %d thread(s): ms/page faults per call\n", calls, n, n, threads);
  // descent first: its early calls are the ones in question, so the raw calls must not warm the
  // heap for it. The raw buffer is allocated and touched afterwards.
  measure("descent", calls, [&] {
    const descent::Tensor c = descent::matmul(a, b);
    volatile float sink = c.data_ptr<float>()[0];
    (void)sink;
  });
  std::vector<float> c(static_cast<std::size_t>(n) * n, 0.0f);
  measure("cblas", calls, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data_ptr<float>(), n,
                b.data_ptr<float>(), n, 0.0f, c.data(), n);
  });
  return 0;
}
