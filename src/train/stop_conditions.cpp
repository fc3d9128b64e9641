// Callbacks that end training when a goal is met: TargetReached (a value crossed a target) and
// Converged (the value stopped changing).

#include <cmath>

#include <fmt/format.h>

#include "descent/train/callbacks.h"
#include "descent/train/trainer.h"
#include "internal/check.h"
#include "train/callback_util.h"

namespace descent::train {

TargetReached::TargetReached(double target, std::string monitor, Mode mode)
    : target_(target), monitor_(std::move(monitor)), mode_(mode) {}

void TargetReached::on_epoch_end(Trainer& trainer, EpochLogs& logs) {
  const double value = detail::monitored(logs, monitor_, "TargetReached");
  const bool larger = detail::resolve_mode(mode_, monitor_) == Mode::Max;
  if (larger ? value >= target_ : value <= target_) {
    trainer.request_stop(fmt::format("target reached ({} {:.6g} {} {:.6g})", monitor_, value, larger ? ">=" : "<=",
                                     target_));
  }
}

Converged::Converged(double tolerance, std::int64_t patience, std::string monitor)
    : tolerance_(tolerance), patience_(patience), monitor_(std::move(monitor)) {
  DESCENT_CHECK_VALUE(tolerance_ >= 0, "Converged: tolerance must be >= 0, got {}", tolerance_);
  DESCENT_CHECK_VALUE(patience_ >= 1, "Converged: patience must be >= 1, got {}", patience_);
}

void Converged::on_epoch_end(Trainer& trainer, EpochLogs& logs) {
  const double value = detail::monitored(logs, monitor_, "Converged");
  count_ = last_ && std::abs(value - *last_) < tolerance_ ? count_ + 1 : 0;
  last_ = value;
  if (count_ >= patience_) {
    trainer.request_stop(fmt::format("converged ({} changed by less than {:g} for {} epoch{})", monitor_, tolerance_,
                                     count_, count_ == 1 ? "" : "s"));
  }
}

std::map<std::string, Tensor> Converged::state_dict() const {
  return {{"last", detail::encode_optional(last_)}, {"count", detail::encode_count(count_)}};
}

void Converged::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::optional<double> last = detail::decode_optional(state, "last", "Converged");
  const std::int64_t count = detail::decode_count(state, "count", "Converged");
  last_ = last;
  count_ = count;
}

}  // namespace descent::train
