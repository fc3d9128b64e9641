#include "optimization.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/core/error.h"
#include "descent/optim/optimizers.h"

namespace descent::cli {

std::unique_ptr<optim::Optimizer> make_optimizer(const Config& config, nn::Module& model) {
  const std::string name = config.string("optimizer.name");
  auto params = model.parameters();
  std::unique_ptr<optim::Optimizer> opt;
  if (name == "sgd") {
    // PyTorch's SGD has no default learning rate; descent's CLI uses 0.01 rather than refusing.
    opt = std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = config.has("optimizer.lr") ? config.number("optimizer.lr") : 0.01});
  } else if (name == "adagrad") {
    opt = std::make_unique<optim::Adagrad>(params);
  } else if (name == "adadelta") {
    opt = std::make_unique<optim::Adadelta>(params);
  } else if (name == "rmsprop") {
    opt = std::make_unique<optim::RMSprop>(params);
  } else if (name == "adam") {
    opt = std::make_unique<optim::Adam>(params);
  } else if (name == "adamw") {
    opt = std::make_unique<optim::AdamW>(params);
  } else if (name == "adamax") {
    opt = std::make_unique<optim::Adamax>(params);
  } else if (name == "nadam") {
    opt = std::make_unique<optim::NAdam>(params);
  } else {
    throw ValueError(fmt::format("{}optimizer.name: unknown optimizer '{}' (known: sgd, adagrad, adadelta, rmsprop, adam, adamw, adamax, nadam)",
                                 config.where("optimizer.name"), name));
  }
  for (const std::string& key : config.set_keys("optimizer")) {
    if (key == "name") continue;
    const std::string full = "optimizer." + key;
    if (!opt->has_option(key))
      throw ValueError(fmt::format("{}{}: {} has no option '{}'", config.where(full), full, name, key));
    optim::OptionValue value;
    const auto& j = config.json()["optimizer"][key];
    if (j.is_boolean()) {
      value = j.get<bool>();
    } else if (j.is_array()) {
      const auto v = config.numbers(full);
      if (v.size() != 2) throw ValueError(fmt::format("{}{}: expected two numbers [beta1, beta2]", config.where(full), full));
      value = std::pair{v[0], v[1]};
    } else {
      value = j.get<double>();
    }
    try {
      opt->set_option(0, key, value);
    } catch (const Error& e) {
      throw ValueError(fmt::format("{}{}: {}", config.where(full), full, e.what()));
    }
  }
  return opt;
}

Schedule make_schedule(const Config& config, optim::Optimizer& optimizer, std::int64_t steps_per_epoch, bool has_validation) {
  const std::string name = config.string("schedule.name");
  static const std::map<std::string, std::set<std::string>> allowed = {
      {"none", {}},
      {"step", {"step_size", "gamma"}},
      {"multistep", {"milestones", "gamma"}},
      {"exponential", {"gamma"}},
      {"cosine", {"T_max", "eta_min"}},
      {"linear", {"start_factor", "end_factor", "total_iters"}},
      {"onecycle", {"max_lr", "pct_start"}},
      {"plateau", {"factor", "patience", "min_lr", "monitor"}},
  };
  auto it = allowed.find(name);
  if (it == allowed.end())
    throw ValueError(fmt::format("{}schedule.name: unknown schedule '{}' (known: none, step, multistep, exponential, cosine, linear, onecycle, plateau)",
                                 config.where("schedule.name"), name));
  for (const std::string& key : config.set_keys("schedule"))
    if (key != "name" && !it->second.contains(key))
      throw ValueError(fmt::format("{}schedule.{}: the '{}' schedule has no option '{}'", config.where("schedule." + key), key, name, key));

  auto num = [&](const char* key, double fallback) { return config.has(key) ? config.number(key) : fallback; };
  auto integer = [&](const char* key, std::int64_t fallback) { return config.has(key) ? config.integer(key) : fallback; };
  auto required = [&](const char* key) {
    if (!config.has(key)) throw ValueError(fmt::format("{}the '{}' schedule needs {}", config.where("schedule"), name, key));
  };
  const std::int64_t epochs = config.integer("training.epochs");
  Schedule s;
  try {
    if (name == "step") {
      required("schedule.step_size");
      s.scheduler = std::make_shared<optim::StepLR>(optimizer, optim::StepLROptions{.step_size = config.integer("schedule.step_size"), .gamma = num("schedule.gamma", 0.1)});
    } else if (name == "multistep") {
      required("schedule.milestones");
      s.scheduler = std::make_shared<optim::MultiStepLR>(
          optimizer, optim::MultiStepLROptions{.milestones = config.integers("schedule.milestones"), .gamma = num("schedule.gamma", 0.1)});
    } else if (name == "exponential") {
      required("schedule.gamma");
      s.scheduler = std::make_shared<optim::ExponentialLR>(optimizer, optim::ExponentialLROptions{.gamma = config.number("schedule.gamma")});
    } else if (name == "cosine") {
      s.scheduler = std::make_shared<optim::CosineAnnealingLR>(
          optimizer, optim::CosineAnnealingLROptions{.T_max = integer("schedule.T_max", epochs), .eta_min = num("schedule.eta_min", 0.0)});
    } else if (name == "linear") {
      s.scheduler = std::make_shared<optim::LinearLR>(
          optimizer, optim::LinearLROptions{.start_factor = num("schedule.start_factor", 1.0 / 3), .end_factor = num("schedule.end_factor", 1.0),
                                            .total_iters = integer("schedule.total_iters", 5)});
    } else if (name == "onecycle") {
      required("schedule.max_lr");
      s.scheduler = std::make_shared<optim::OneCycleLR>(
          optimizer, optim::OneCycleLROptions{.max_lr = config.number("schedule.max_lr"), .epochs = epochs,
                                              .steps_per_epoch = steps_per_epoch, .pct_start = num("schedule.pct_start", 0.3)});
      s.interval = train::ScheduleInterval::Step;
    } else if (name == "plateau") {
      s.scheduler = std::make_shared<optim::ReduceLROnPlateau>(
          optimizer, optim::ReduceLROnPlateauOptions{.factor = num("schedule.factor", 0.1), .patience = integer("schedule.patience", 10),
                                                     .min_lr = num("schedule.min_lr", 0.0)});
      s.monitor = config.has("schedule.monitor") ? config.string("schedule.monitor") : (has_validation ? "val_loss" : "loss");
    }
  } catch (const ValueError& e) {
    throw ValueError(fmt::format("{}schedule '{}': {}", config.where("schedule"), name, e.what()));
  }
  return s;
}

}  // namespace descent::cli
