#pragma once
// The seeded random number generator behind rand, randn, dropout, shuffling and initialization.
// xoshiro256++ seeded through splitmix64: fast, small state (four words) that a checkpoint can save,
// and the same numbers on every platform (no std::*_distribution, whose output is implementation-defined).

#include <array>
#include <cstdint>

namespace descent {

class Generator {
 public:
  using State = std::array<std::uint64_t, 4>;

  explicit Generator(std::uint64_t seed = 0) { manual_seed(seed); }

  /// Resets the stream: the same seed gives the same numbers.
  void manual_seed(std::uint64_t seed);

  /// The next 64 random bits.
  std::uint64_t next_u64();

  /// Uniform in [0, 1), 53 bits of randomness.
  double uniform();

  /// Standard normal (Box-Muller). No spare value is cached between calls, so state() alone
  /// determines every later value: a saved state resumes the stream exactly.
  double normal();

  /// Two independent standard normals from one Box-Muller draw (randn fills tensors by pairs).
  std::array<double, 2> normal_pair();

  /// Uniform integer in [0, n); n > 0.
  std::uint64_t integer(std::uint64_t n);

  State state() const { return state_; }
  void set_state(const State& state);

 private:
  State state_{};
};

/// The process-wide default generator, used when a function is given none (seed it with manual_seed).
Generator& default_generator();

/// Seeds the default generator, like torch.manual_seed.
void manual_seed(std::uint64_t seed);

}  // namespace descent
