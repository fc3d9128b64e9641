// Callbacks: early stopping (epoch and restored weights), target and convergence stops, the
// learning-rate schedule, the metrics files and the progress output.

#include "descent/train/callbacks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "descent/core/error.h"
#include "descent/io/atomic_file.h"
#include "descent/nn/linear.h"
#include "descent/nn/loss.h"
#include "descent/optim/optimizers.h"
#include "descent/optim/schedule.h"
#include "descent/train/trainer.h"

namespace descent::train {
namespace {

using data::DataLoader;
using data::TensorDataset;

// y = x0 - x1, 32 examples.
TensorDataset line_data() {
  Generator gen(2);
  Tensor x = randn({32, 2}, gen);
  std::vector<double> y;
  for (std::int64_t i = 0; i < 32; ++i) y.push_back(x.at({i, 0}) - x.at({i, 1}));
  return TensorDataset(x, tensor(y, {32, 1}));
}

// A small regression run: its callbacks are what the tests look at.
struct SmallRun {
  SmallRun() : loader(line_data(), {.batch_size = 8}), model(init()), opt(model.parameters(), {.lr = 0.05}),
            trainer(model, opt, [](const Tensor& o, const Tensor& y) { return mse_loss(o, y); },
                    {.task = data::Task::Regression}) {}
  static nn::LinearOptions init() {
    manual_seed(1);
    return {.in_features = 2, .out_features = 1};
  }
  DataLoader loader;
  nn::Linear model;
  optim::SGD opt;
  Trainer trainer;
};

// Puts a scripted "score" in the logs and keeps a copy of the weights after every epoch.
class Script : public Callback {
 public:
  explicit Script(std::vector<double> scores, std::string key = "score")
      : scores_(std::move(scores)), key_(std::move(key)) {}
  std::string name() const override { return "script"; }
  void on_epoch_end(Trainer& trainer, EpochLogs& logs) override {
    logs[key_] = scores_.at(static_cast<std::size_t>(logs.at("epoch")) - 1);
    weights.push_back(trainer.model().named_parameters()[0].second.clone().to_vector<float>());
  }
  std::vector<std::vector<float>> weights;

 private:
  std::vector<double> scores_;
  std::string key_;
};

TEST(EarlyStopping, StopsAfterPatienceAndRestoresBestWeights) {
  SmallRun s;
  auto script = std::make_shared<Script>(std::vector<double>{1.0, 0.8, 0.9, 0.7, 0.75, 0.71, 0.72, 0.6, 0.5});
  auto stopping = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "score", .patience = 3, .restore_best_weights = true});
  s.trainer.add_callback(script);
  s.trainer.add_callback(stopping);
  const History& h = s.trainer.fit(s.loader, nullptr, 9);
  // best 0.7 at epoch 4; epochs 5, 6, 7 do not improve -> stop after epoch 7
  EXPECT_EQ(h.epochs.size(), 7u);
  EXPECT_EQ(stopping->best(), 0.7);
  EXPECT_EQ(stopping->best_epoch(), 4);
  EXPECT_EQ(h.stop_reason.rfind("early stopping (score did not improve for 3 epochs", 0), 0u) << h.stop_reason;
  EXPECT_EQ(s.model.named_parameters()[0].second.to_vector<float>(), script->weights[3]);
  EXPECT_NE(script->weights[3], script->weights[6]);
  EXPECT_EQ(h.epochs[3].at("score"), 0.7);  // keys added by callbacks reach the history
}

TEST(EarlyStopping, MinDeltaModeAndState) {
  SmallRun s;
  s.trainer.add_callback(std::make_shared<Script>(std::vector<double>{0.5, 0.53, 0.56, 0.58, 0.6, 0.9}));
  auto stopping = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions{.monitor = "score", .patience = 2, .min_delta = 0.05, .mode = Mode::Max});
  s.trainer.add_callback(stopping);
  s.trainer.fit(s.loader, nullptr, 6);
  // 0.53 is not 0.05 better than 0.5; 0.56 is; 0.58 and 0.6 are not better than 0.56 + 0.05 -> stop
  EXPECT_EQ(s.trainer.epochs_done(), 5);
  EXPECT_EQ(stopping->best(), 0.56);
  EXPECT_EQ(stopping->best_epoch(), 3);

  EarlyStopping restored({.monitor = "score", .patience = 2, .min_delta = 0.05, .mode = Mode::Max});
  restored.load_state_dict(stopping->state_dict());
  EXPECT_EQ(restored.best(), 0.56);
  EXPECT_EQ(restored.best_epoch(), 3);
  EXPECT_THROW(restored.load_state_dict({}), ValueError);
}

TEST(EarlyStopping, MissingMonitorListsKeys) {
  SmallRun s;
  s.trainer.add_callback(std::make_shared<EarlyStopping>());  // val_loss, but no validation data
  try {
    s.trainer.fit(s.loader, nullptr, 2);
    FAIL();
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("val_loss"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rmse"), std::string::npos) << msg;
  }
  EXPECT_THROW(EarlyStopping({.patience = -1}), ValueError);
}

TEST(Callback, TargetReachedStopsOnTheLoss) {
  SmallRun s;
  s.trainer.add_callback(std::make_shared<TargetReached>(0.05));
  const History& h = s.trainer.fit(s.loader, nullptr, 200);
  ASSERT_LT(h.epochs.size(), 200u);
  EXPECT_LE(h.epochs.back().at("loss"), 0.05);
  EXPECT_GT(h.epochs[h.epochs.size() - 2].at("loss"), 0.05);
  EXPECT_EQ(h.stop_reason.rfind("target reached (loss", 0), 0u) << h.stop_reason;
}

TEST(Callback, TargetReachedMaxForAccuracyLikeNames) {
  SmallRun s;
  s.trainer.add_callback(std::make_shared<Script>(std::vector<double>{0.5, 0.8, 0.95, 0.99}, "score_accuracy"));
  s.trainer.add_callback(std::make_shared<TargetReached>(0.9, "score_accuracy"));  // larger is better
  const History& h = s.trainer.fit(s.loader, nullptr, 4);
  EXPECT_EQ(h.epochs.size(), 3u);
  EXPECT_EQ(h.stop_reason, "target reached (score_accuracy 0.95 >= 0.9)");
}

TEST(Callback, ConvergedStopsWhenTheValueStopsChanging) {
  SmallRun s;
  s.trainer.add_callback(std::make_shared<Script>(std::vector<double>{1.0, 0.5, 0.49, 0.3, 0.295, 0.2949, 0.2948, 0}));
  auto converged = std::make_shared<Converged>(0.01, 2, "score");
  s.trainer.add_callback(converged);
  const History& h = s.trainer.fit(s.loader, nullptr, 8);
  // changes: 0.5, 0.01 (not < 0.01), 0.19, 0.005 (1), 0.0001 (2) -> stop after epoch 6
  EXPECT_EQ(h.epochs.size(), 6u);
  EXPECT_EQ(h.stop_reason.rfind("converged (score", 0), 0u) << h.stop_reason;
  Converged copy(0.01, 2, "score");
  copy.load_state_dict(converged->state_dict());
  EXPECT_EQ(copy.state_dict().at("count").item(), 2.0);
  EXPECT_THROW(Converged(0.1, 0), ValueError);
}

TEST(Callback, LRSchedulerStepsStepLRAtEpochEnds) {
  SmallRun s;
  auto schedule = std::make_shared<optim::StepLR>(s.opt, optim::StepLROptions{.step_size = 2, .gamma = 0.1});
  s.trainer.add_callback(std::make_shared<LRSchedulerCallback>(schedule));
  const History& h = s.trainer.fit(s.loader, nullptr, 5);
  const std::vector<double> lr = h.column("lr");
  ASSERT_EQ(lr.size(), 5u);
  EXPECT_DOUBLE_EQ(lr[0], 0.05);
  EXPECT_DOUBLE_EQ(lr[1], 0.05);
  EXPECT_DOUBLE_EQ(lr[2], 0.005);
  EXPECT_DOUBLE_EQ(lr[3], 0.005);
  EXPECT_DOUBLE_EQ(lr[4], 0.0005);
  EXPECT_DOUBLE_EQ(h.steps[8].lr, 0.005);  // steps record the lr they used (4 per epoch)
  EXPECT_DOUBLE_EQ(s.opt.lr(), 0.0005);  // the step after epoch 5 crosses no boundary
}

TEST(Callback, LRSchedulerPerStepAndPlateau) {
  SmallRun s;
  auto linear = std::make_shared<optim::LinearLR>(
      s.opt, optim::LinearLROptions{.start_factor = 0.5, .end_factor = 1.0, .total_iters = 4});
  s.trainer.add_callback(std::make_shared<LRSchedulerCallback>(linear, ScheduleInterval::Step));
  const History& h = s.trainer.fit(s.loader, nullptr, 1);
  EXPECT_DOUBLE_EQ(h.steps[0].lr, 0.025);
  EXPECT_DOUBLE_EQ(h.steps[3].lr, 0.04375);
  EXPECT_DOUBLE_EQ(s.opt.lr(), 0.05);

  SmallRun p;
  auto plateau = std::make_shared<optim::ReduceLROnPlateau>(p.opt, optim::ReduceLROnPlateauOptions{.patience = 0});
  p.trainer.add_callback(std::make_shared<Script>(std::vector<double>{1, 1, 1}));
  p.trainer.add_callback(std::make_shared<LRSchedulerCallback>(plateau, ScheduleInterval::Epoch, "score"));
  p.trainer.fit(p.loader, nullptr, 3);
  EXPECT_DOUBLE_EQ(p.opt.lr(), 0.05 * 0.1 * 0.1);
  EXPECT_THROW(LRSchedulerCallback(plateau, ScheduleInterval::Step), ValueError);
}

TEST(Callback, CheckpointSavesLastAndBest) {
  SmallRun s;
  std::vector<std::string> saves;
  s.trainer.add_callback(std::make_shared<Script>(std::vector<double>{3, 2, 2.5, 1}));
  auto checkpoint = std::make_shared<CheckpointCallback>(
      [&](Trainer& t, const std::string& which) {
        saves.push_back(which + std::to_string(t.epochs_done()));
        EXPECT_EQ(t.state_dict().at("epochs_done").item(), static_cast<double>(t.epochs_done()));
      },
      "score");
  s.trainer.add_callback(checkpoint);
  s.trainer.fit(s.loader, nullptr, 4);
  EXPECT_EQ(saves, (std::vector<std::string>{"last1", "best1", "last2", "best2", "last3", "last4", "best4"}));
  EXPECT_EQ(checkpoint->state_dict().at("best").item(), 1.0);
}

TEST(Callback, MetricsLoggerWritesCsvAndJsonl) {
  const auto dir = std::filesystem::temp_directory_path() / ("descent_metrics_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  SmallRun s;
  s.trainer.add_callback(std::make_shared<MetricsLogger>((dir / "run").string()));
  const History& h = s.trainer.fit(s.loader, &s.loader, 3);

  std::istringstream csv(io::read_file(dir / "run" / "metrics.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "epoch,loss,lr,mae,r2,rmse,seconds,val_loss,val_mae,val_r2,val_rmse");
  std::vector<std::string> rows;
  while (std::getline(csv, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].rfind("3,", 0), 0u) << rows[2];
  // fields in shortest round-trip form: read back exactly
  const std::string loss_field = rows[0].substr(2, rows[0].find(',', 2) - 2);
  EXPECT_EQ(std::stod(loss_field), h.epochs[0].at("loss")) << rows[0];

  std::istringstream jsonl(io::read_file(dir / "run" / "metrics.jsonl"));
  std::vector<nlohmann::json> objects;
  while (std::getline(jsonl, line)) objects.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[1]["epoch"].get<int>(), 2);
  EXPECT_EQ(objects[1]["val_rmse"].get<double>(), h.epochs[1].at("val_rmse"));
  std::filesystem::remove_all(dir);
}

TEST(Callback, ProgressLinesAndQuiet) {
  SmallRun s;
  std::ostringstream lines, quiet;
  s.trainer.add_callback(std::make_shared<ProgressLogger>(lines));  // Auto: not a terminal -> Lines
  SmallRun q;
  q.trainer.add_callback(std::make_shared<ProgressLogger>(quiet, ProgressStyle::Quiet));
  s.trainer.fit(s.loader, &s.loader, 2);
  q.trainer.fit(q.loader, &q.loader, 2);
  EXPECT_EQ(quiet.str(), "");
  std::istringstream in(lines.str());
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  ASSERT_EQ(out.size(), 2u) << lines.str();
  EXPECT_EQ(out[0].rfind("epoch 1/2 loss ", 0), 0u) << out[0];
  EXPECT_EQ(out[1].rfind("epoch 2/2 loss ", 0), 0u) << out[1];
  for (const char* part : {" mae ", " rmse ", " r2 ", " val_loss ", " val_rmse ", " lr 0.05 "}) {
    EXPECT_NE(out[1].find(part), std::string::npos) << part << " in " << out[1];
  }
  EXPECT_LT(out[1].find(" rmse "), out[1].find(" val_loss "));
  EXPECT_EQ(out[1].back(), 's');  // ends with the epoch's time
  EXPECT_EQ(lines.str().find('\r'), std::string::npos);
}

TEST(Callback, ProgressBar) {
  SmallRun s;
  std::ostringstream bar;
  s.trainer.add_callback(std::make_shared<ProgressLogger>(bar, ProgressStyle::Bar));
  s.trainer.fit(s.loader, nullptr, 1);
  const std::string text = bar.str();
  EXPECT_NE(text.find("\repoch 1/1 [##"), std::string::npos) << text;  // the first step: 1/4 of the bar
  EXPECT_NE(text.find("1/4 loss "), std::string::npos) << text;
  EXPECT_NE(text.find(" rmse "), std::string::npos) << text;
  EXPECT_NE(text.find(" samples/s ETA "), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace descent::train
