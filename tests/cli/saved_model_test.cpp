// A model written to model.safetensors or a checkpoint and read back predicts exactly what the
// model in memory predicted, with the same scaling of its inputs.
#include "saved_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "cli_fixture.h"
#include "descent/autograd/grad_mode.h"
#include "descent/core/error.h"
#include "descent/io/safetensors.h"
#include "descent/ops/elementwise.h"
#include "descent/optim/optimizers.h"

namespace descent::cli::testing {
namespace {

using ::testing::HasSubstr;

class SavedModelTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    config_ = Config::from_json(nlohmann::json::parse(R"({"model": {"hidden": [6], "dropout": 0.2, "batch_norm": true}, "data": {"train": "x.csv", "target": "t"}})"), "test");
    format_.format = "csv";
    format_.spec = {.example_shape = {3}, .task = data::Task::Classification, .num_classes = 3};
    format_.classes = {"a", "b", "c"};
    format_.feature_names = {"f1", "f2", "f3"};
    format_.target_names = {"t"};
    Generator g(3);
    inputs_ = randn({20, 3}, g) * 4.0 + 1.0;
    format_.scaler = data::Scaler(data::ScalerKind::Standardize);
    format_.scaler.fit(inputs_);
    manual_seed(2);
    built_ = build_model(config_, format_.spec);
    // A few steps so that the weights and BatchNorm's running statistics are not the initial ones.
    optim::Adam opt(built_.model->parameters(), {.lr = 0.05});
    const Tensor x = format_.scaler.transform(inputs_);
    const Tensor y = randint(0, 3, {20}, g);
    for (int i = 0; i < 5; ++i) {
      opt.zero_grad();
      make_loss(config_, built_.loss)((*built_.model)(x), y).backward();
      opt.step();
    }
    built_.model->eval();
  }

  Tensor predict(nn::Module& model) {
    NoGradGuard no_grad;
    return model(format_.scaler.transform(inputs_)).contiguous();
  }

  static void expect_identical(const Tensor& a, const Tensor& b) {
    ASSERT_EQ(a.shape(), b.shape());
    EXPECT_EQ(0, std::memcmp(a.data_ptr<float>(), b.data_ptr<float>(), sizeof(float) * a.numel()));
  }

  Config config_ = Config::from_json(nlohmann::json::object(), "empty");
  DataFormat format_;
  BuiltModel built_;
  Tensor inputs_;
};

TEST_F(SavedModelTest, ModelFilePredictsExactlyAsTheModelInMemory) {
  save_model_file(dir_ / "model.safetensors", *built_.model, config_, format_);
  LoadedModel loaded = load_model(dir_);  // a folder finds its model.safetensors
  EXPECT_FALSE(loaded.is_checkpoint);
  EXPECT_EQ(loaded.format.classes, format_.classes);
  EXPECT_EQ(loaded.format.feature_names, format_.feature_names);
  expect_identical(predict(*built_.model), [&] {
    NoGradGuard no_grad;
    return (*loaded.built.model)(loaded.format.scaler.transform(inputs_)).contiguous();
  }());
}

TEST_F(SavedModelTest, CheckpointPredictsExactlyAsTheModelInMemory) {
  optim::Adam opt(built_.model->parameters());
  train::Trainer trainer(*built_.model, opt, make_loss(config_, built_.loss), {.num_classes = 3});
  save_training_checkpoint(dir_ / "checkpoint-last.safetensors", {.model = built_.model.get(), .optimizer = &opt, .trainer = &trainer}, config_, format_);
  LoadedModel loaded = load_model(dir_ / "checkpoint-last.safetensors");
  EXPECT_TRUE(loaded.is_checkpoint);
  expect_identical(predict(*built_.model), predict(*loaded.built.model));
}

TEST_F(SavedModelTest, FilesThatAreNotModelsAreRefused) {
  auto error_of = [](const fs::path& p) {
    try {
      load_model(p);
    } catch (const descent::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error_of(dir_), HasSubstr("no model.safetensors"));
  io::save_safetensors(dir_ / "plain.safetensors", {{"w", zeros({2})}});
  EXPECT_THAT(error_of(dir_ / "plain.safetensors"), HasSubstr("not a model written by descent"));
  // Weights of another shape than the configuration describes.
  save_model_file(dir_ / "m.safetensors", *built_.model, config_, format_);
  auto content = io::load_safetensors(dir_ / "m.safetensors");
  content.tensors["0.weight"] = zeros({7, 3});
  io::save_safetensors(dir_ / "m.safetensors", content.tensors, content.metadata);
  EXPECT_THAT(error_of(dir_ / "m.safetensors"), HasSubstr("do not fit the model"));
}

}  // namespace
}  // namespace descent::cli::testing
