// CheckpointCallback: the caller's save function, called with "last" every epoch and "best" on an
// improvement. The best value is updated first, so that both checkpoints hold the state after it.

#include "descent/train/callbacks.h"
#include "internal/check.h"
#include "train/callback_util.h"

namespace descent::train {

CheckpointCallback::CheckpointCallback(Save save, std::string monitor, Mode mode)
    : save_(std::move(save)), monitor_(std::move(monitor)), mode_(mode) {
  DESCENT_CHECK_VALUE(static_cast<bool>(save_), "CheckpointCallback: the save function is empty");
}

void CheckpointCallback::on_epoch_end(Trainer& trainer, EpochLogs& logs) {
  const double value = detail::monitored(logs, monitor_, "CheckpointCallback");
  const bool improved = detail::improves(value, best_, detail::resolve_mode(mode_, monitor_));
  if (improved) best_ = value;
  save_(trainer, "last");
  if (improved) save_(trainer, "best");
}

std::map<std::string, Tensor> CheckpointCallback::state_dict() const {
  return {{"best", detail::encode_optional(best_)}};
}

void CheckpointCallback::load_state_dict(const std::map<std::string, Tensor>& state) {
  best_ = detail::decode_optional(state, "best", "CheckpointCallback");
}

}  // namespace descent::train
