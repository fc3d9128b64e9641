// Diagnostics: networks built to provoke each condition get that diagnosis and only it; a healthy
// network gets none; the per-layer statistics land in the logs; state survives a resume.

#include "descent/train/diagnostics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "descent/core/error.h"
#include "descent/nn/activation.h"
#include "descent/nn/init.h"
#include "descent/nn/linear.h"
#include "descent/nn/loss.h"
#include "descent/nn/sequential.h"
#include "descent/optim/optimizers.h"
#include "descent/optim/schedule.h"
#include "descent/train/trainer.h"

namespace descent::train {
namespace {

using data::DataLoader;
using data::TensorDataset;
using ::testing::HasSubstr;

// Three Gaussian blobs in 2-D, classes 0, 1, 2 (labels shuffled at random with random_labels).
TensorDataset blobs(std::int64_t per_class, std::uint64_t seed, bool random_labels = false) {
  Generator gen(seed);
  Tensor noise = randn({3 * per_class, 2}, gen);
  Tensor shuffled = randint(0, 3, {3 * per_class}, gen);
  std::vector<double> x;
  std::vector<std::int64_t> y;
  const double centers[3][2] = {{2, 0}, {-2, 1}, {0, -2}};
  for (std::int64_t i = 0; i < 3 * per_class; ++i) {
    const std::int64_t c = i % 3;
    x.push_back(centers[c][0] + 0.7 * noise.at({i, 0}));
    x.push_back(centers[c][1] + 0.7 * noise.at({i, 1}));
    y.push_back(random_labels ? static_cast<std::int64_t>(shuffled.at({i})) : c);
  }
  return TensorDataset(tensor(x, {3 * per_class, 2}), tensor_int64(y, {3 * per_class}));
}

// y = 2 x0 - 3 x1 + 0.5.
TensorDataset linear_data(std::int64_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn({n, 2}, gen);
  std::vector<double> y;
  for (std::int64_t i = 0; i < n; ++i) y.push_back(2 * x.at({i, 0}) - 3 * x.at({i, 1}) + 0.5);
  return TensorDataset(x, tensor(y, {n, 1}));
}

// in -> [hidden, activation] x depth -> out.
template <typename Activation>
std::shared_ptr<nn::Sequential> mlp(std::int64_t in, std::int64_t hidden, std::int64_t depth, std::int64_t out,
                                    std::uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<nn::Sequential>();
  std::int64_t width = in;
  for (std::int64_t k = 0; k < depth; ++k) {
    model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = width, .out_features = hidden}));
    model->push_back(std::make_shared<Activation>());
    width = hidden;
  }
  model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = width, .out_features = out}));
  return model;
}

LossFunction ce() {
  return [](const Tensor& out, const Tensor& y) { return cross_entropy(out, y); };
}
LossFunction mse() {
  return [](const Tensor& out, const Tensor& y) { return mse_loss(out, y); };
}

std::vector<std::string> kinds(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const Diagnosis& x : d.diagnoses()) out.push_back(x.kind);
  return out;
}

TEST(Diagnostics, AHealthyNetworkGetsNoDiagnosisAndItsStatisticsAreLogged) {
  TensorDataset train_set = blobs(100, 1), val_set = blobs(50, 2);
  DataLoader train(train_set, {.batch_size = 32, .shuffle = true, .seed = 3});
  DataLoader val(val_set, {.batch_size = 256});
  auto model = mlp<nn::ReLU>(2, 16, 2, 3, 7);
  optim::Adam opt(model->parameters(), {.lr = 0.01});
  Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
  std::ostringstream out;
  auto diag = std::make_shared<Diagnostics>(*model, DiagnosticsOptions{.out = &out});
  trainer.add_callback(diag);
  const History& h = trainer.fit(train, &val, 8);
  EXPECT_TRUE(diag->diagnoses().empty()) << out.str();
  EXPECT_EQ(out.str(), "");
  EXPECT_THAT(diag->layers(), ::testing::ElementsAre("0 (Linear)", "1 (ReLU)", "2 (Linear)", "3 (ReLU)", "4 (Linear)"));
  const auto& last = h.epochs.back();
  for (const char* key : {"grad_norm.0", "weight_norm.0", "update_ratio.0", "grad_norm.4", "act_mean.1", "act_std.1",
                          "dead_fraction.1", "dead_fraction.3"}) {
    ASSERT_TRUE(last.count(key)) << key;
    EXPECT_TRUE(std::isfinite(last.at(key))) << key;
  }
  EXPECT_FALSE(last.count("act_mean.0"));     // not an activation layer
  EXPECT_FALSE(last.count("grad_norm.1"));    // no parameters
  EXPECT_GT(last.at("update_ratio.0"), 1e-5);  // Adam at lr 0.01 moves weights by ~1e-3 of their norm
  EXPECT_LT(last.at("update_ratio.0"), 0.1);
  EXPECT_GE(last.at("act_mean.1"), 0.0);  // ReLU outputs
  EXPECT_LT(last.at("dead_fraction.1"), 0.5);
  // The weight norm is the layer's parameters' norm at the end of the epoch.
  double sq = 0;
  for (const Tensor& p : (*model)[0].parameters()) {
    for (float v : p.to_vector<float>()) sq += static_cast<double>(v) * v;
  }
  EXPECT_NEAR(last.at("weight_norm.0"), std::sqrt(sq), 1e-4 * std::sqrt(sq));
}

TEST(Diagnostics, ADeepSigmoidNetworkHasVanishingGradients) {
  TensorDataset set = blobs(60, 1);
  DataLoader loader(set, {.batch_size = 30, .shuffle = true, .seed = 1});
  auto model = mlp<nn::Sigmoid>(2, 16, 20, 3, 2);
  optim::SGD opt(model->parameters(), {.lr = 0.1});
  Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
  std::ostringstream out;
  auto diag = std::make_shared<Diagnostics>(*model, DiagnosticsOptions{.out = &out});
  trainer.add_callback(diag);
  trainer.fit(loader, nullptr, 5);
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"vanishing_gradients"}) << out.str();
  const Diagnosis& d = diag->diagnoses()[0];
  EXPECT_EQ(d.epoch, 1);
  EXPECT_THAT(d.layer, HasSubstr("(Linear)"));
  EXPECT_THAT(d.remedy, HasSubstr("replace sigmoid/tanh"));
  EXPECT_THAT(d.remedy, HasSubstr("batch normalization"));
  EXPECT_THAT(out.str(), HasSubstr("diagnosis at epoch 1: vanishing gradients: layer"));
  // Reported once, though every epoch has it.
  EXPECT_EQ(out.str().find("vanishing"), out.str().rfind("vanishing gradients"));
}

TEST(Diagnostics, TheSameDepthWithReluIsHealthy) {
  // The control for the test above: depth alone is not the diagnosis.
  TensorDataset set = blobs(60, 1);
  DataLoader loader(set, {.batch_size = 30, .shuffle = true, .seed = 1});
  auto model = mlp<nn::ReLU>(2, 16, 6, 3, 2);
  optim::SGD opt(model->parameters(), {.lr = 0.05});
  Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
  auto diag = std::make_shared<Diagnostics>(*model);
  trainer.add_callback(diag);
  trainer.fit(loader, nullptr, 3);
  EXPECT_THAT(kinds(*diag), ::testing::Not(::testing::Contains("vanishing_gradients")));
}

TEST(Diagnostics, ATooLargeLearningRateIsReportedAsExploding) {
  // Full-batch gradient descent on a least-squares problem whose curvature is ~2: lr 1.2 multiplies
  // the error by ~1.4 each step, so the loss grows without becoming infinite.
  TensorDataset set = linear_data(64, 1);
  DataLoader loader(set, {.batch_size = 0});
  manual_seed(0);
  nn::Linear model({.in_features = 2, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 1.2});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  auto diag = std::make_shared<Diagnostics>(model);
  trainer.add_callback(diag);
  const History& h = trainer.fit(loader, nullptr, 12);
  EXPECT_TRUE(std::isfinite(h.epochs.back().at("loss")));
  EXPECT_GT(h.epochs.back().at("loss"), 100 * h.epochs.front().at("loss"));
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"exploding_gradients"});
  EXPECT_THAT(diag->diagnoses()[0].message, HasSubstr("diverging"));
  EXPECT_THAT(diag->diagnoses()[0].remedy, HasSubstr("lower the learning rate (now 1.2)"));
}

TEST(Diagnostics, AGradientSpikeIsReportedAtItsStep) {
  // Stable steps first, then one batch a thousand times larger: the gradient norm jumps.
  std::vector<double> x, y;
  for (int i = 0; i < 60; ++i) {
    const double scale = i >= 56 ? 1e4 : 1.0;
    x.push_back(scale * std::sin(i));
    y.push_back(scale * 0.5);
  }
  TensorDataset set(tensor(x, {60, 1}), tensor(y, {60, 1}));
  DataLoader loader(set, {.batch_size = 4});
  manual_seed(0);
  nn::Linear model({.in_features = 1, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 1e-12});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  auto diag = std::make_shared<Diagnostics>(model);
  trainer.add_callback(diag);
  trainer.fit(loader, nullptr, 1);
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"exploding_gradients"});
  EXPECT_EQ(diag->diagnoses()[0].step, 15);  // the 15th batch holds the large examples
  EXPECT_THAT(diag->diagnoses()[0].message, HasSubstr("times the median of the first 10 steps"));
}

TEST(Diagnostics, NonFiniteOutputsStopTrainingNamingTheLayerAndStep) {
  TensorDataset set = linear_data(64, 1);
  DataLoader loader(set, {.batch_size = 16});
  auto model = mlp<nn::Tanh>(2, 8, 1, 1, 4);
  nn::init::constant_((*model)[2].named_parameters()[1].second, NAN);  // the output layer's bias
  optim::SGD opt(model->parameters(), {.lr = 0.01});
  Trainer trainer(*model, opt, mse(), {.task = data::Task::Regression});
  std::ostringstream out;
  auto diag = std::make_shared<Diagnostics>(*model, DiagnosticsOptions{.out = &out});
  trainer.add_callback(diag);
  try {
    trainer.fit(loader, nullptr, 5);
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Diagnostics: non-finite values at epoch 1, step 1: layer 2 (Linear) produced "
                                    "NaN in the forward pass from a finite input"));
    EXPECT_THAT(e.what(), HasSubstr("lower the learning rate (now 0.01)"));
  }
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"non_finite"});
  EXPECT_EQ(diag->diagnoses()[0].layer, "2 (Linear)");
  EXPECT_THAT(out.str(), HasSubstr("diagnosis at epoch 1, step 1: non finite: layer 2 (Linear) produced NaN"));
}

TEST(Diagnostics, ALossThatOverflowsIsLeftToTheTrainersCheck) {
  // Huge weights after one step at lr 1e30: every layer's output is finite, the squared error
  // overflows float32. The first non-finite value is in the loss, and the trainer says so.
  TensorDataset set = linear_data(64, 1);
  DataLoader loader(set, {.batch_size = 16});
  auto model = mlp<nn::Tanh>(2, 8, 1, 1, 4);
  optim::SGD opt(model->parameters(), {.lr = 1e30});
  Trainer trainer(*model, opt, mse(), {.task = data::Task::Regression});
  auto diag = std::make_shared<Diagnostics>(*model);
  trainer.add_callback(diag);
  try {
    trainer.fit(loader, nullptr, 5);
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Trainer.fit: the loss is inf at epoch 1, global step 2"));
  }
}

TEST(Diagnostics, NaNInTheDataIsBlamedOnTheData) {
  TensorDataset set(tensor({1, 2, NAN, 4}, {4, 1}), tensor({1, 2, 3, 4}, {4, 1}));
  DataLoader loader(set, {.batch_size = 2});
  manual_seed(0);
  nn::Linear model({.in_features = 1, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 0.01});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  trainer.add_callback(std::make_shared<Diagnostics>(model));
  try {
    trainer.fit(loader, nullptr, 1);
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("at epoch 1, step 2: the input of layer Linear already holds NaN: check the data"));
  }
}

TEST(Diagnostics, UnitsKilledByANegativeBiasAreDeadAndNothingElseIsBlamed) {
  TensorDataset set = blobs(60, 1);
  DataLoader loader(set, {.batch_size = 30, .shuffle = true, .seed = 1});
  auto model = mlp<nn::ReLU>(2, 16, 1, 3, 5);
  nn::init::constant_((*model)[0].named_parameters()[1].second, -100.0);  // every hidden unit negative, always
  optim::SGD opt(model->parameters(), {.lr = 0.05});
  Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
  auto diag = std::make_shared<Diagnostics>(*model);
  trainer.add_callback(diag);
  const History& h = trainer.fit(loader, nullptr, 5);
  // Layer 0's gradients are exactly 0 (vanishing, by the numbers) and the loss is flat (a plateau),
  // but the dead units are the cause: only they are reported.
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"dead_units"});
  EXPECT_EQ(diag->diagnoses()[0].layer, "1 (ReLU)");
  EXPECT_THAT(diag->diagnoses()[0].message, HasSubstr("100 % of the 16 units of layer 1 (ReLU) were never active"));
  EXPECT_THAT(diag->diagnoses()[0].remedy, HasSubstr("Leaky ReLU or PReLU"));
  EXPECT_EQ(h.epochs.back().at("dead_fraction.1"), 1.0);
  EXPECT_EQ(h.epochs.back().at("grad_norm.0"), 0.0);
}

TEST(Diagnostics, MemorizingRandomLabelsIsOverfitting) {
  TensorDataset train_set = blobs(20, 1, true), val_set = blobs(50, 2, true);
  DataLoader train(train_set, {.batch_size = 0});
  DataLoader val(val_set, {.batch_size = 0});
  auto model = mlp<nn::Tanh>(2, 64, 2, 3, 3);
  optim::Adam opt(model->parameters(), {.lr = 0.01});
  Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
  auto diag = std::make_shared<Diagnostics>(*model);
  trainer.add_callback(diag);
  trainer.fit(train, &val, 150);
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"overfitting"});
  EXPECT_THAT(diag->diagnoses()[0].remedy, HasSubstr("dropout"));
  EXPECT_THAT(diag->diagnoses()[0].remedy, HasSubstr("early stopping"));
}

TEST(Diagnostics, ALearningRateFarTooSmallIsAPlateau) {
  TensorDataset set = linear_data(64, 1);
  DataLoader loader(set, {.batch_size = 16});
  manual_seed(0);
  nn::Linear model({.in_features = 2, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 1e-6});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  std::ostringstream out;
  auto diag = std::make_shared<Diagnostics>(model, DiagnosticsOptions{.out = &out});
  trainer.add_callback(diag);
  trainer.fit(loader, nullptr, 6);
  ASSERT_EQ(kinds(*diag), std::vector<std::string>{"plateau"});
  EXPECT_EQ(diag->diagnoses()[0].epoch, 4);  // the first epoch with 3 before it
  EXPECT_THAT(out.str(), HasSubstr("remedy: use a learning-rate schedule"));
}

TEST(Diagnostics, AFlatLossUnderADecayingScheduleIsNoPlateau) {
  // The same run as above, but a schedule divides the learning rate by 10 every epoch: the loss
  // is flat because the schedule says so, which is no problem to report.
  TensorDataset set = linear_data(64, 1);
  DataLoader loader(set, {.batch_size = 16});
  manual_seed(0);
  nn::Linear model({.in_features = 2, .out_features = 1});
  optim::SGD opt(model.parameters(), {.lr = 1e-6});
  Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
  auto diag = std::make_shared<Diagnostics>(model);
  trainer.add_callback(diag);
  trainer.add_callback(std::make_shared<LRSchedulerCallback>(
      std::make_shared<optim::StepLR>(opt, optim::StepLROptions{.step_size = 1, .gamma = 0.1})));
  trainer.fit(loader, nullptr, 6);
  EXPECT_TRUE(diag->diagnoses().empty());
}

TEST(Diagnostics, AResumedRunKeepsItsDiagnosesAndDoesNotRepeatThem) {
  TensorDataset set = linear_data(64, 1);
  DataLoader loader(set, {.batch_size = 16});
  const auto run = [&](std::int64_t epochs, const std::map<std::string, Tensor>* resume, std::ostream& out,
                       std::map<std::string, Tensor>* state) {
    manual_seed(0);
    nn::Linear model({.in_features = 2, .out_features = 1});
    optim::SGD opt(model.parameters(), {.lr = 1e-6});
    Trainer trainer(model, opt, mse(), {.task = data::Task::Regression});
    auto diag = std::make_shared<Diagnostics>(model, DiagnosticsOptions{.out = &out});
    trainer.add_callback(diag);
    if (resume != nullptr) {
      trainer.load_state_dict(*resume);
      model.load_state_dict(nn::StateDict({{"weight", resume->at("model.weight")}, {"bias", resume->at("model.bias")}}));
    }
    trainer.fit(loader, nullptr, epochs);
    if (state != nullptr) {
      *state = trainer.state_dict();
      (*state)["model.weight"] = model.named_parameters()[0].second.clone();
      (*state)["model.bias"] = model.named_parameters()[1].second.clone();
    }
    return diag->diagnoses();
  };
  std::ostringstream first, second, whole;
  std::map<std::string, Tensor> state;
  const auto before = run(5, nullptr, first, &state);
  ASSERT_EQ(before.size(), 1u);
  const auto after = run(8, &state, second, nullptr);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].message, before[0].message);
  EXPECT_EQ(second.str(), "");  // not reported again
  run(8, nullptr, whole, nullptr);
  EXPECT_EQ(first.str(), whole.str());
}

TEST(Diagnostics, BadOptionsAndBadStateAreRefused) {
  nn::Linear model({.in_features = 2, .out_features = 1});
  EXPECT_THROW(Diagnostics(model, {.vanishing_ratio = 0}), ValueError);
  EXPECT_THROW(Diagnostics(model, {.exploding_factor = 0.5}), ValueError);
  EXPECT_THROW(Diagnostics(model, {.dead_fraction = 1.0}), ValueError);
  EXPECT_THROW(Diagnostics(model, {.plateau_patience = 0}), ValueError);
  Diagnostics diag(model);
  try {
    diag.load_state_dict({{"diagnoses", tensor_int64({'[', '{'}, {2})}});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("Diagnostics.load_state_dict"));
  }
  EXPECT_NO_THROW(diag.load_state_dict({}));  // a checkpoint of a run without diagnostics
}

TEST(Diagnostics, TheModelOutlivesItsDiagnostics) {
  // The hooks reference the callback: they must be gone once training ends and once the callback
  // is destroyed, or this forward would run them on freed memory (caught by the sanitizer builds).
  TensorDataset set = blobs(20, 1);
  DataLoader loader(set, {.batch_size = 0});
  auto model = mlp<nn::ReLU>(2, 8, 1, 3, 1);
  {
    optim::SGD opt(model->parameters(), {.lr = 0.1});
    Trainer trainer(*model, opt, ce(), {.task = data::Task::Classification, .num_classes = 3});
    trainer.add_callback(std::make_shared<Diagnostics>(*model));
    trainer.fit(loader, nullptr, 1);
  }
  model->train();
  EXPECT_EQ((*model)(tensor({NAN, 1}, {1, 2})).size(1), 3);
}

}  // namespace
}  // namespace descent::train
