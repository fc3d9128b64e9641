#pragma once
// The one way kernels split a loop across OpenMP threads.
//
// Why not `#pragma omp parallel for if (cond)`: with the condition false, libgomp still enters its
// runtime and starts a team of one, which wakes the docked pool threads with a futex syscall. On a
// 2-2-1 network's training step (a dozen tiny kernels) that was three syscalls and a fifth of the
// step's time (perf, docs/benchmarks.md). Below the threshold these helpers run a plain loop that
// never touches the OpenMP runtime.

#include <cstdint>

#include <omp.h>

namespace descent::kernels {

/// Calls body(i) for every i in [0, n), split statically across the OpenMP threads when `parallel`
/// (the caller's "worth a team" test, usually work >= kParallelGrain), n > 1 and more than one
/// thread is configured; else in order on the calling thread. Iterations must be independent.
template <typename Body>
void parallel_for(std::int64_t n, bool parallel, Body&& body) {
  if (parallel && n > 1 && omp_get_max_threads() > 1) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace descent::kernels
