// descent train CONFIG: load the data, build the model, train with progress, checkpoint every epoch,
// evaluate, and leave a run folder with the model, the logs and report.html.
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "closed_form.h"
#include "config.h"
#include "data_source.h"
#include "descent/autograd/grad_mode.h"
#include "descent/core/error.h"
#include "descent/core/threads.h"
#include "descent/data/augment.h"
#include "descent/io/atomic_file.h"
#include "descent/io/checkpoint.h"
#include "descent/nn/loss.h"
#include "descent/ops/elementwise.h"
#include "descent/optim/clip.h"
#include "descent/train/diagnostics.h"
#include "descent/version.h"
#include "model_builder.h"
#include "optimization.h"
#include "report.h"
#include "saved_model.h"

namespace descent::cli {
namespace {

namespace fs = std::filesystem;

// A fresh run never overwrites an earlier one: runs/x, then runs/x-2, runs/x-3, ...
fs::path choose_run_folder(const fs::path& wanted, bool resume) {
  std::error_code ec;
  if (resume || !fs::exists(wanted, ec) || fs::is_empty(wanted, ec)) return wanted;
  for (int i = 2;; ++i) {
    fs::path candidate = wanted.string() + "-" + std::to_string(i);
    if (!fs::exists(candidate, ec)) return candidate;
  }
}

train::ProgressStyle progress_style(const std::string& name, const Config& config) {
  if (name == "auto") return train::ProgressStyle::Auto;
  if (name == "bar") return train::ProgressStyle::Bar;
  if (name == "lines") return train::ProgressStyle::Lines;
  if (name == "quiet") return train::ProgressStyle::Quiet;
  throw ValueError(fmt::format("{}training.progress: expected auto, bar, lines or quiet, got \"{}\"", config.where("training.progress"), name));
}

// Resuming with another configuration would not continue the same run: only these may change.
void check_resumable(const Config& now, const Config& stored, const std::string& origin) {
  nlohmann::json a = now.json(), b = stored.json();
  for (auto* j : {&a, &b}) {
    (*j)["training"].erase("epochs");
    (*j)["training"].erase("progress");
    (*j)["training"].erase("diagnostics");  // it only watches: the numbers are the same either way
    j->erase("output");
    j->erase("threads");
  }
  if (a == b) return;
  std::vector<std::string> differ;
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key())) continue;
    if (it->is_object()) {
      for (auto jt = it->begin(); jt != it->end(); ++jt)
        if (b[it.key()][jt.key()] != *jt) differ.push_back(it.key() + "." + jt.key());
    } else if (b[it.key()] != *it) {
      differ.push_back(it.key());
    }
  }
  throw ValueError(fmt::format("{}: cannot resume: the configuration differs from the checkpoint's in {} (only training.epochs, "
                               "training.progress, training.diagnostics, output and threads may change)",
                               origin, fmt::join(differ, ", ")));
}

// One Linear layer (a Sequential of one, as the presets build it): y = x W^T + b.
bool is_linear_model(nn::Module& model) {
  const auto params = model.named_parameters();
  return params.size() == 2 && params[0].first == "0.weight" && params[1].first == "0.bias" && params[0].second.dim() == 2;
}

// "w = [3.0002, -1.9994, 0.4999], b = 4.0003, training loss 0.0101 (gradient descent: ..., loss 0.0102;
// largest difference 0.0006)", or why there is none. The loss is the one trained: mse over the
// training data plus the L2 penalty.
std::string compare_with_closed_form(nn::Module& model, const data::TensorDataset& train, double l2) {
  const std::optional<LeastSquares> cf = least_squares(train.inputs().flatten(1), train.targets(), l2);
  if (!cf) return "none (the features are collinear: X^T X is singular)";
  const auto params = model.named_parameters();
  const std::vector<double> w = params[0].second.to(kFloat64).contiguous().to_vector<double>();
  const std::vector<double> b = params[1].second.to(kFloat64).contiguous().to_vector<double>();
  const std::int64_t d = params[0].second.size(1);
  double gd_loss = 0, penalty = 0, diff = 0;
  {
    NoGradGuard no_grad;  // one Linear layer: no training-mode behaviour to switch off
    const Tensor y = train.targets().dim() == 1 ? train.targets().unsqueeze(1) : train.targets();
    gd_loss = mse_loss(model(train.inputs()).to(kFloat64), y.to(kFloat64)).item();
  }
  for (double v : w) penalty += v * v;
  gd_loss += 0.5 * l2 * penalty;
  std::vector<double> cf_w, gd_w;
  for (std::size_t o = 0; o < cf->weight.size(); ++o) {
    for (std::int64_t j = 0; j < d; ++j) {
      diff = std::max(diff, std::abs(cf->weight[o][static_cast<std::size_t>(j)] - w[o * d + j]));
      cf_w.push_back(cf->weight[o][static_cast<std::size_t>(j)]);
      gd_w.push_back(w[o * d + j]);
    }
    diff = std::max(diff, std::abs(cf->bias[o] - b[o]));
  }
  const auto list = [](const std::vector<double>& v) {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < std::min<std::size_t>(v.size(), 8); ++i) parts.push_back(fmt::format("{:.4f}", v[i]));
    if (v.size() > 8) parts.push_back(fmt::format("... ({} in all)", v.size()));
    return "[" + fmt::format("{}", fmt::join(parts, ", ")) + "]";
  };
  return fmt::format("w = {}, b = {}, training loss {:.6g} (gradient descent: w = {}, b = {}, loss {:.6g}; largest "
                     "difference {:.3g})",
                     list(cf_w), list(cf->bias), cf->loss, list(gd_w), list(b), gd_loss, diff);
}

std::string format_seconds(double s) {
  if (s < 60) return fmt::format("{:.1f} s", s);
  return fmt::format("{}m{:02d}s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
}

}  // namespace

int train_command(const TrainArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> overrides = args.overrides;
  if (args.output) overrides.push_back("output=" + *args.output);
  const Config config = Config::load(args.config, overrides);
  set_num_threads(static_cast<int>(config.integer("threads")));
  const auto seed = static_cast<std::uint64_t>(config.integer("seed"));
  manual_seed(seed);

  const fs::path wanted = config.has("output") ? fs::path(config.string("output")) : fs::path("runs") / fs::path(args.config).stem();
  const fs::path run = choose_run_folder(wanted, args.resume);

  const auto t_load = std::chrono::steady_clock::now();
  LoadedData data = load_training_data(config);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  BuiltModel built = build_model(config, data.format.spec);
  nn::Module& model = *built.model;
  auto optimizer = make_optimizer(config, model);

  // Loaders: the training one shuffles and augments; evaluation ones go in order, in large batches.
  data::BatchTransform augmentation;
  const std::int64_t max_shift = config.integer("data.augment.max_shift");
  const bool flip = config.boolean("data.augment.horizontal_flip");
  const double noise = config.number("data.augment.noise_std");
  if (max_shift != 0 || flip || noise != 0) {
    const Shape& shape = data.format.spec.example_shape;
    if ((max_shift != 0 || flip) && shape.size() != 3)
      throw ValueError(fmt::format("{}data.augment: shifts and flips need images, the examples have shape {}", config.where("data.augment"),
                                   fmt::join(shape, "x")));
    Shape image = shape.size() == 3 ? shape : Shape{1, 1, shape.empty() ? 1 : shape[0]};
    // Shifted-in pixels get the scaled value of a blank (raw 0) image, the background.
    Shape blank_shape = shape;
    blank_shape.insert(blank_shape.begin(), 1);
    const Tensor blank = data.format.scaler.transform(zeros(blank_shape)).reshape(image);
    augmentation = data::make_augmentation(
        {.max_shift = max_shift, .horizontal_flip = flip, .noise_std = noise, .fill = blank}, image);
  }
  const std::int64_t batch_size = config.integer("training.batch_size");
  if (batch_size < 0) throw ValueError(fmt::format("{}training.batch_size must be >= 0 (0: the whole set)", config.where("training.batch_size")));
  data::DataLoader train_loader(data.train, {.batch_size = batch_size, .shuffle = config.boolean("training.shuffle"),
                                             .drop_last = config.boolean("training.drop_last"), .seed = seed},
                                augmentation);
  std::optional<data::DataLoader> val_loader;
  if (data.validation) val_loader.emplace(*data.validation, data::DataLoaderOptions{.batch_size = 1024});
  Schedule schedule = make_schedule(config, *optimizer, static_cast<std::int64_t>(train_loader.num_batches()), data.validation.has_value());

  fs::create_directories(run);  // only now that the data and the model are known to be good

  const train::LossFunction loss = make_training_loss(config, built.loss, model);

  train::Trainer trainer(model, *optimizer, loss,
                         {.task = data.format.spec.task, .num_classes = data.format.spec.num_classes, .top_k = config.integers("training.top_k"),
                          .clip_grad_norm = config.number("training.clip_grad_norm"), .clip_grad_value = config.number("training.clip_grad_value")});
  const std::string monitor = config.has("training.monitor") ? config.string("training.monitor") : (val_loader ? "val_loss" : "loss");
  const TrainingState state{.model = &model, .optimizer = optimizer.get(), .scheduler = schedule.scheduler.get(), .trainer = &trainer};

  trainer.add_callback(std::make_shared<train::ProgressLogger>(
      out, args.quiet ? train::ProgressStyle::Quiet : progress_style(config.string("training.progress"), config)));
  // Diagnostics before the metrics logger and the checkpoints: its per-layer statistics go into the
  // epoch's logs, and its state into the checkpoint.
  std::shared_ptr<train::Diagnostics> diagnostics;
  if (config.boolean("training.diagnostics") && !args.no_diagnostics) {
    diagnostics = std::make_shared<train::Diagnostics>(model, train::DiagnosticsOptions{.out = &out});
    trainer.add_callback(diagnostics);
  }
  if (schedule.scheduler) trainer.add_callback(std::make_shared<train::LRSchedulerCallback>(schedule.scheduler, schedule.interval, schedule.monitor));
  if (const std::int64_t patience = config.integer("training.early_stopping.patience"); patience > 0)
    trainer.add_callback(std::make_shared<train::EarlyStopping>(
        train::EarlyStoppingOptions{.monitor = monitor, .patience = patience, .min_delta = config.number("training.early_stopping.min_delta"),
                                    .restore_best_weights = config.boolean("training.early_stopping.restore_best_weights")}));
  if (config.has("training.target_loss")) trainer.add_callback(std::make_shared<train::TargetReached>(config.number("training.target_loss")));
  if (config.has("training.tolerance")) trainer.add_callback(std::make_shared<train::Converged>(config.number("training.tolerance")));
  trainer.add_callback(std::make_shared<train::MetricsLogger>(run.string()));
  trainer.add_callback(std::make_shared<train::CheckpointCallback>(
      [&](train::Trainer&, const std::string& which) {
        save_training_checkpoint(run / fmt::format("checkpoint-{}.safetensors", which), state, config, data.format);
      },
      monitor));

  if (args.resume) {
    const fs::path last = run / "checkpoint-last.safetensors";
    if (!fs::exists(last)) throw IOError(fmt::format("{}: nothing to resume (no checkpoint from an earlier run)", last.string()));
    const io::Checkpoint checkpoint = io::load_checkpoint(last);
    check_resumable(config, Config::from_resolved(checkpoint.meta("config"), last.string()), last.string());
    restore_training_checkpoint(checkpoint, state, last.string());
    out << fmt::format("resuming {} after epoch {} (step {})\n", run.string(), trainer.epochs_done(), trainer.global_step());
  }
  io::write_file_atomically(run / "config.json", config.json().dump(2) + "\n");

  const std::int64_t epochs = config.integer("training.epochs");
  if (epochs <= 0) throw ValueError(fmt::format("{}training.epochs must be > 0", config.where("training.epochs")));
  std::int64_t param_count = 0;
  for (const auto& p : model.parameters()) param_count += p.numel();
  out << fmt::format("descent {}: training {} ({} parameters) on {}\n", kVersion, fmt::join(built.layers, ", "), param_count,
                     data.description);
  out << fmt::format("  loss {}, optimizer {} (lr {}), batch size {}, {} epochs, seed {}; {} thread(s) (OpenBLAS: {} build); "
                     "run folder {}\n",
                     to_string(built.loss), config.string("optimizer.name"), optimizer->lr(), train_loader.batch_size(), epochs,
                     seed, get_num_threads(), blas_threading(), run.string());
  out.flush();

  const auto t_train = std::chrono::steady_clock::now();
  const train::History& history = trainer.fit(train_loader, val_loader ? &*val_loader : nullptr, epochs);
  const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_train).count();

  // Evaluate on the test data (or the validation data when there is no test set).
  std::optional<train::Evaluation> evaluation;
  std::string evaluation_name;
  if (data.test) {
    evaluation = trainer.evaluate(data::DataLoader(*data.test, {.batch_size = 1024}));
    evaluation_name = "test";
  } else if (val_loader) {
    evaluation = trainer.evaluate(*val_loader);
    evaluation_name = "validation";
  }

  // Linear regression has a closed form: show it next to what gradient descent found.
  std::optional<std::string> closed_form;
  if (built.loss == LossKind::Mse && config.number("training.l1") == 0 && is_linear_model(model))
    closed_form = compare_with_closed_form(model, data.train, config.number("training.l2"));

  save_model_file(run / "model.safetensors", model, config, data.format);
  if (evaluation) {
    nlohmann::json j = evaluation->scalars();
    j["split"] = evaluation_name;
    j["count"] = evaluation->count;
    if (evaluation->classification) j["confusion_matrix"] = evaluation->classification->confusion_matrix();
    io::write_file_atomically(run / "evaluation.json", j.dump(2) + "\n");
  }

  ReportData report{.title = fmt::format("descent run: {}", run.filename().string()), .history = history, .evaluation = evaluation,
                    .evaluation_name = evaluation_name, .classes = data.format.classes};
  report.facts = {{"configuration", fs::absolute(args.config).string()},
                  {"data", data.description},
                  {"model", fmt::format("{} ({} parameters)", fmt::join(built.layers, ", "), param_count)},
                  {"loss", to_string(built.loss)},
                  {"optimizer", fmt::format("{} (lr {})", config.string("optimizer.name"), history.epochs.empty() ? optimizer->lr() : history.epochs.front().at("lr"))},
                  {"schedule", config.string("schedule.name")},
                  {"batch size", std::to_string(train_loader.batch_size())},
                  {"epochs", fmt::format("{} of {}", trainer.epochs_done(), epochs)},
                  {"stopped", history.stop_reason},
                  {"seed", std::to_string(seed)},
                  {"threads", std::to_string(config.integer("threads"))},
                  {"time", fmt::format("{} training, {} loading data", format_seconds(train_seconds), format_seconds(load_seconds))}};
  if (closed_form) report.facts.emplace_back("closed form", *closed_form);
  if (evaluation)
    for (const auto& [k, v] : evaluation->scalars()) report.facts.emplace_back(fmt::format("{} {}", evaluation_name, k), fmt::format("{:.4f}", v));
  Shape example = data.format.spec.example_shape;
  example.insert(example.begin(), 1);
  report.model_summary = model.summary(example);
  report.config_json = config.json().dump();
  if (diagnostics) {
    report.diagnostics = true;
    report.diagnoses = diagnostics->diagnoses();
  }
  io::write_file_atomically(run / "report.html", render_report(report));

  out << fmt::format("trained {} epochs in {} ({})\n", trainer.epochs_done(), format_seconds(train_seconds), history.stop_reason);
  if (evaluation) {
    std::string line;
    for (const auto& [k, v] : evaluation->scalars()) line += fmt::format(" {} {:.4f}", k, v);
    out << fmt::format("{} ({} examples):{}\n", evaluation_name, evaluation->count, line);
  }
  if (closed_form) out << "closed form: " << *closed_form << "\n";
  out << fmt::format("model: {}\nreport: {}\n", (run / "model.safetensors").string(), (run / "report.html").string());
  (void)err;
  return 0;
}

}  // namespace descent::cli
