// EarlyStopping: Keras' rule (stop after `patience` epochs without an improvement larger than
// min_delta), with the best weights kept as clones so later steps cannot change them.

#include <fmt/format.h>

#include "descent/autograd/grad_mode.h"
#include "descent/train/callbacks.h"
#include "descent/train/trainer.h"
#include "internal/check.h"
#include "train/callback_util.h"

namespace descent::train {

namespace {
constexpr std::string_view kOwner = "EarlyStopping";
const std::string kWeightsPrefix = "best_weights.";
}  // namespace

EarlyStopping::EarlyStopping(const EarlyStoppingOptions& options) : options_(options) {
  DESCENT_CHECK_VALUE(options_.patience >= 0, "EarlyStopping: patience must be >= 0, got {}", options_.patience);
  DESCENT_CHECK_VALUE(options_.min_delta >= 0, "EarlyStopping: min_delta must be >= 0, got {}", options_.min_delta);
}

void EarlyStopping::on_epoch_end(Trainer& trainer, EpochLogs& logs) {
  const double value = detail::monitored(logs, options_.monitor, kOwner);
  const Mode mode = detail::resolve_mode(options_.mode, options_.monitor);
  if (detail::improves(value, best_, mode, options_.min_delta)) {
    best_ = value;
    best_epoch_ = trainer.epochs_done();
    wait_ = 0;
    if (options_.restore_best_weights) {
      NoGradGuard no_grad;
      nn::StateDict snapshot;
      for (const auto& [key, tensor] : trainer.model().state_dict()) snapshot.insert(key, tensor.clone());
      best_weights_ = std::move(snapshot);
    }
    return;
  }
  ++wait_;
  if (wait_ >= options_.patience) {
    trainer.request_stop(fmt::format("early stopping ({} did not improve for {} epoch{}; best {:.6g} at epoch {})",
                                     options_.monitor, wait_, wait_ == 1 ? "" : "s", best_.value_or(value),
                                     best_epoch_));
  }
}

void EarlyStopping::on_train_end(Trainer& trainer) {
  if (options_.restore_best_weights && best_weights_) trainer.model().load_state_dict(*best_weights_);
}

std::map<std::string, Tensor> EarlyStopping::state_dict() const {
  std::map<std::string, Tensor> state{{"best", detail::encode_optional(best_)},
                                      {"best_epoch", detail::encode_count(best_epoch_)},
                                      {"wait", detail::encode_count(wait_)}};
  if (best_weights_) {
    for (const auto& [key, tensor] : *best_weights_) state[kWeightsPrefix + key] = tensor.clone();
  }
  return state;
}

void EarlyStopping::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::optional<double> best = detail::decode_optional(state, "best", kOwner);
  const std::int64_t best_epoch = detail::decode_count(state, "best_epoch", kOwner);
  const std::int64_t wait = detail::decode_count(state, "wait", kOwner);
  std::optional<nn::StateDict> weights;
  for (const auto& [key, tensor] : state) {
    if (key.rfind(kWeightsPrefix, 0) != 0) continue;
    if (!weights) weights.emplace();
    weights->insert(key.substr(kWeightsPrefix.size()), tensor.clone());
  }
  best_ = best;
  best_epoch_ = best_epoch;
  wait_ = wait;
  best_weights_ = std::move(weights);
}

}  // namespace descent::train
