// Trainer: it learns (XOR, a linear regression with known weights), stops when told, fails loudly
// on a NaN loss, repeats itself bit for bit, and resumes from state dicts exactly.

#include "descent/train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "descent/core/error.h"
#include "descent/nn/activation.h"
#include "descent/nn/linear.h"
#include "descent/nn/loss.h"
#include "descent/nn/sequential.h"
#include "descent/optim/optimizers.h"

namespace descent::train {
namespace {

using data::DataLoader;
using data::TensorDataset;

// y = 2 x0 - 3 x1 + 0.5, no noise.
TensorDataset linear_data(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn({n, 2}, gen);
  std::vector<double> y;
  for (std::int64_t i = 0; i < n; ++i) y.push_back(2 * x.at({i, 0}) - 3 * x.at({i, 1}) + 0.5);
  return TensorDataset(x, tensor(y, {n, 1}));
}

std::shared_ptr<nn::Sequential> mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, std::uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = in, .out_features = hidden}));
  model->push_back(std::make_shared<nn::Tanh>());
  model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = hidden, .out_features = out}));
  return model;
}

LossFunction mse() {
  return [](const Tensor& out, const Tensor& y) { return mse_loss(out, y); };
}
LossFunction ce() {
  return [](const Tensor& out, const Tensor& y) { return cross_entropy(out, y); };
}

// Three Gaussian blobs in 2-D, classes 0, 1, 2.
TensorDataset blobs(std::int64_t per_class, std::uint64_t seed) {
  Generator gen(seed);
  Tensor noise = randn({3 * per_class, 2}, gen);
  std::vector<double> x;
  std::vector<std::int64_t> y;
  const double centers[3][2] = {{2, 0}, {-2, 1}, {0, -2}};
  for (std::int64_t i = 0; i < 3 * per_class; ++i) {
    const std::int64_t c = i % 3;
    x.push_back(centers[c][0] + 0.7 * noise.at({i, 0}));
    x.push_back(centers[c][1] + 0.7 * noise.at({i, 1}));
    y.push_back(c);
  }
  return TensorDataset(tensor(x, {3 * per_class, 2}), tensor_int64(y, {3 * per_class}));
}

// Everything but the wall-clock "seconds".
void expect_same_history(const History& a, const History& b) {
  ASSERT_EQ(a.epochs.size(), b.epochs.size());
  for (std::size_t e = 0; e < a.epochs.size(); ++e) {
    auto ra = a.epochs[e], rb = b.epochs[e];
    ra.erase("seconds");
    rb.erase("seconds");
    EXPECT_EQ(ra, rb) << "epoch " << e + 1;
  }
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (std::size_t s = 0; s < a.steps.size(); ++s) {
    EXPECT_EQ(a.steps[s].epoch, b.steps[s].epoch);
    EXPECT_EQ(a.steps[s].step, b.steps[s].step);
    EXPECT_EQ(a.steps[s].loss, b.steps[s].loss) << "step " << s + 1;
    EXPECT_EQ(a.steps[s].lr, b.steps[s].lr);
  }
  EXPECT_EQ(a.stop_reason, b.stop_reason);
}

TEST(Trainer, LearnsXor) {
  TensorDataset xor_data(tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}), tensor({0, 1, 1, 0}, {4, 1}));
  DataLoader loader(xor_data, {.batch_size = 0});  // full batch
  auto model = mlp(2, 8, 1, 3);
  optim::Adam opt(model->parameters(), {.lr = 0.05});
  Trainer trainer(*model, opt,
                  [](const Tensor& out, const Tensor& y) { return binary_cross_entropy_with_logits(out, y); },
                  {.task = data::Task::Classification, .num_classes = 2});
  trainer.add_callback(std::make_shared<TargetReached>(0.05));
  const History& h = trainer.fit(loader, nullptr, 1000);
  EXPECT_EQ(h.stop_reason.rfind("target reached", 0), 0u) << h.stop_reason;
  EXPECT_LT(h.epochs.size(), 1000u);
  EXPECT_LE(h.epochs.back().at("loss"), 0.05);
  const Evaluation ev = trainer.evaluate(loader);
  EXPECT_EQ(ev.count, 4);
  EXPECT_EQ(ev.classification->accuracy(), 1.0);
  EXPECT_EQ(ev.scalars().at("accuracy"), 1.0);
  EXPECT_EQ(trainer.global_step(), static_cast<std::int64_t>(h.epochs.size()));  // one step per epoch
}

TEST(Trainer, RecoversLinearRegressionWeights) {
  DataLoader loader(linear_data(64, 1), {.batch_size = 16, .shuffle = true, .seed = 5});
  manual_seed(0);
  nn::Linear model({.in_features = 2, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 0.1});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  const History& h = trainer.fit(loader, &loader, 60);
  EXPECT_EQ(h.epochs.size(), 60u);
  EXPECT_EQ(h.stop_reason, "completed");
  EXPECT_EQ(h.steps.size(), 60u * 4);
  const auto w = model.named_parameters();
  EXPECT_NEAR(w[0].second.at({0, 0}), 2.0, 1e-3);
  EXPECT_NEAR(w[0].second.at({0, 1}), -3.0, 1e-3);
  EXPECT_NEAR(w[1].second.at({0}), 0.5, 1e-3);
  const auto& last = h.epochs.back();
  for (const char* key : {"epoch", "loss", "mae", "rmse", "r2", "val_loss", "val_mae", "val_rmse", "val_r2", "lr",
                          "seconds"}) {
    EXPECT_TRUE(last.count(key)) << key;
  }
  EXPECT_GT(last.at("val_r2"), 0.999999);
  EXPECT_EQ(last.at("epoch"), 60.0);
  EXPECT_EQ(last.at("lr"), 0.1);
  // predict in batches = one forward pass over everything
  Tensor x = loader.dataset().inputs();
  EXPECT_EQ(trainer.predict(x, 5).to_vector<float>(), trainer.predict(x).to_vector<float>());
}

TEST(Trainer, ClassificationLogsAndEvaluation) {
  DataLoader train(blobs(20, 1), {.batch_size = 8, .shuffle = true, .seed = 1});
  DataLoader val(blobs(10, 2), {.batch_size = 8});
  auto model = mlp(2, 8, 3, 1);
  optim::Adam opt(model->parameters(), {.lr = 0.05});
  Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3, .top_k = {2}});
  const History& h = trainer.fit(train, &val, 5);
  for (const char* key : {"accuracy", "top2_accuracy", "macro_f1", "val_accuracy", "val_top2_accuracy", "val_loss"}) {
    EXPECT_TRUE(h.epochs.back().count(key)) << key;
  }
  EXPECT_GT(h.epochs.back().at("val_accuracy"), 0.9);
  EXPECT_TRUE(model->is_training());
  const Evaluation ev = trainer.evaluate(val);
  EXPECT_EQ(ev.loss, h.epochs.back().at("val_loss"));
  EXPECT_TRUE(model->is_training());  // evaluate restores the mode
}

TEST(Trainer, NanLossNamesEpochStepAndBatch) {
  DataLoader loader(linear_data(64, 1), {.batch_size = 16});
  manual_seed(0);
  nn::Linear model({.in_features = 2, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 1e10});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  try {
    trainer.fit(loader, nullptr, 10);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("epoch 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("global step"), std::string::npos) << msg;
    EXPECT_NE(msg.find("batch index"), std::string::npos) << msg;
    EXPECT_NE(msg.find("learning rate"), std::string::npos) << msg;
  }
  // nothing of the failed epoch is in the history
  EXPECT_EQ(trainer.epochs_done(), static_cast<std::int64_t>(trainer.history().epochs.size()));
  for (const StepRecord& s : trainer.history().steps) EXPECT_LE(s.epoch, trainer.epochs_done());
}

TEST(Trainer, SameSeedSameHistory) {
  auto run = [] {
    DataLoader train(blobs(20, 1), {.batch_size = 8, .shuffle = true, .seed = 9});
    DataLoader val(blobs(10, 2), {.batch_size = 16});
    auto model = mlp(2, 8, 3, 4);
    optim::SGD opt(model->parameters(), {.lr = 0.1, .momentum = 0.9});
    Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
    return trainer.fit(train, &val, 4);
  };
  expect_same_history(run(), run());
}

// Train 4 epochs in one go, or 2, then save everything, build new objects, load and train to 4.
TEST(Trainer, ResumeFromStateDictsIsExact) {
  TensorDataset train_data = blobs(20, 1);
  TensorDataset val_data = blobs(10, 2);
  auto build = [&](std::uint64_t init_seed) {
    struct Run {
      std::shared_ptr<nn::Sequential> model;
      std::unique_ptr<optim::Adam> opt;
      std::unique_ptr<Trainer> trainer;
      std::shared_ptr<EarlyStopping> stopping;
    } r;
    r.model = mlp(2, 8, 3, init_seed);
    r.opt = std::make_unique<optim::Adam>(r.model->parameters(), optim::AdamOptions{.lr = 0.01});
    r.trainer = std::make_unique<Trainer>(*r.model, *r.opt, ce(),
                                          TrainerOptions{.task = data::Task::Classification, .num_classes = 3});
    r.stopping = std::make_shared<EarlyStopping>(EarlyStoppingOptions{.patience = 10});
    r.trainer->add_callback(r.stopping);
    return r;
  };
  auto copy = [](const std::map<std::string, Tensor>& state) {
    std::map<std::string, Tensor> out;
    for (const auto& [k, v] : state) out[k] = v.detach().clone();
    return out;
  };
  DataLoader train(train_data, {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader val(val_data, {.batch_size = 16});

  auto whole = build(7);
  whole.trainer->fit(train, &val, 4);

  auto first = build(7);
  first.trainer->fit(train, &val, 2);
  std::map<std::string, Tensor> model_state;
  for (const auto& [k, v] : first.model->state_dict()) model_state[k] = v.clone();
  const auto opt_state = copy(first.opt->state_dict());
  const auto trainer_state = copy(first.trainer->state_dict());
  EXPECT_EQ(trainer_state.at("epochs_done").item(), 2.0);
  EXPECT_EQ(trainer_state.at("epochs_done").dtype(), kInt64);
  EXPECT_TRUE(trainer_state.count("callback.early_stopping.best"));

  auto second = build(99);  // other initial weights: the load must replace them
  DataLoader train2(train_data, {.batch_size = 8, .shuffle = true, .seed = 3});
  DataLoader val2(val_data, {.batch_size = 16});
  second.model->load_state_dict(nn::StateDict(model_state));
  second.opt->load_state_dict(opt_state);
  second.trainer->load_state_dict(trainer_state);
  EXPECT_EQ(second.trainer->epochs_done(), 2);
  EXPECT_EQ(second.stopping->best(), first.stopping->best());
  second.trainer->fit(train2, &val2, 4);

  expect_same_history(whole.trainer->history(), second.trainer->history());
  const auto a = whole.model->named_parameters();
  const auto b = second.model->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].second.to_vector<float>(), b[i].second.to_vector<float>()) << a[i].first;
  }
}

TEST(Trainer, LoadStateDictErrors) {
  auto model = mlp(2, 4, 3, 1);
  optim::SGD opt(model->parameters(), {.lr = 0.1});
  Trainer trainer(*model, opt, ce(), {.num_classes = 3});
  auto state = trainer.state_dict();
  state.erase("global_step");
  try {
    trainer.load_state_dict(state);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("global_step"), std::string::npos) << e.what();
  }
  trainer.add_callback(std::make_shared<Converged>(1e-3));
  EXPECT_THROW(trainer.load_state_dict(Trainer(*model, opt, ce(), {.num_classes = 3}).state_dict()), ValueError);
  EXPECT_THROW(Trainer(*model, opt, ce(), {.num_classes = 1}), ValueError);
  EXPECT_THROW(trainer.add_callback(std::make_shared<Converged>(1e-3)), ValueError);  // same name twice
  std::ostringstream sink;
  trainer.add_callback(std::make_shared<ProgressLogger>(sink, ProgressStyle::Quiet));
  EXPECT_NO_THROW(trainer.add_callback(std::make_shared<ProgressLogger>(sink, ProgressStyle::Quiet)));  // no state
}

}  // namespace
}  // namespace descent::train
