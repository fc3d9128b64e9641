#pragma once
// The optimizer and the learning-rate schedule a configuration names, with its options. Options are
// set by name through Optimizer::set_option, so a key the chosen optimizer does not have is an error
// that names both ("optimizer.betas: sgd has no option 'betas'").

#include <cstdint>
#include <memory>

#include "config.h"
#include "descent/nn/module.h"
#include "descent/optim/optimizer.h"
#include "descent/optim/schedule.h"
#include "descent/train/callbacks.h"

namespace descent::cli {

std::unique_ptr<optim::Optimizer> make_optimizer(const Config& config, nn::Module& model);

struct Schedule {
  std::shared_ptr<optim::Scheduler> scheduler;  // null for "none"
  train::ScheduleInterval interval = train::ScheduleInterval::Epoch;
  std::string monitor;
};

/// steps_per_epoch: for schedules stepped every batch (onecycle).
Schedule make_schedule(const Config& config, optim::Optimizer& optimizer, std::int64_t steps_per_epoch, bool has_validation);

}  // namespace descent::cli
