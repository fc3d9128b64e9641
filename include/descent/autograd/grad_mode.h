#pragma once
// Whether ops record the graph. Off inside NoGradGuard (optimizer updates, evaluation) and while
// the engine runs a backward. Thread-local, as in PyTorch.

namespace descent {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

/// RAII: no op records a graph node while a NoGradGuard lives.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace descent
