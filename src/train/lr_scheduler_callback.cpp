// LRSchedulerCallback: steps an epoch schedule at the end of every epoch (or a per-batch schedule
// such as OneCycleLR after every optimizer step), or ReduceLROnPlateau with the monitored value.

#include "descent/train/callbacks.h"
#include "internal/check.h"
#include "train/callback_util.h"

namespace descent::train {

LRSchedulerCallback::LRSchedulerCallback(std::shared_ptr<optim::Scheduler> scheduler, ScheduleInterval interval,
                                         std::string monitor)
    : scheduler_(std::move(scheduler)), interval_(interval), monitor_(std::move(monitor)) {
  DESCENT_CHECK_VALUE(scheduler_ != nullptr, "LRSchedulerCallback: no scheduler");
  DESCENT_CHECK_VALUE(!(interval_ == ScheduleInterval::Step &&
                        dynamic_cast<optim::ReduceLROnPlateau*>(scheduler_.get()) != nullptr),
                      "LRSchedulerCallback: ReduceLROnPlateau steps once per epoch with a metric, not per step");
}

void LRSchedulerCallback::on_step_end(Trainer&, const StepRecord&) {
  if (interval_ != ScheduleInterval::Step) return;
  if (auto* schedule = dynamic_cast<optim::LRScheduler*>(scheduler_.get())) schedule->step();
}

void LRSchedulerCallback::on_epoch_end(Trainer&, EpochLogs& logs) {
  if (interval_ != ScheduleInterval::Epoch) return;
  if (auto* plateau = dynamic_cast<optim::ReduceLROnPlateau*>(scheduler_.get())) {
    plateau->step(detail::monitored(logs, monitor_, "LRSchedulerCallback"));
  } else if (auto* schedule = dynamic_cast<optim::LRScheduler*>(scheduler_.get())) {
    schedule->step();
  }
}

}  // namespace descent::train
