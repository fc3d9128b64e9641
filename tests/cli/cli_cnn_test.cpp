// End-to-end tests of a convolutional network through the descent program: IDX images the test
// makes (bars in three orientations at random places), trained, evaluated, inspected and resumed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "descent/data/idx.h"
#include "descent/io/safetensors.h"

namespace descent::cli::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

// n 10x10 images: class 0 a horizontal bar, 1 a vertical bar, 2 a diagonal, each 5 pixels long at a
// random place, over uniform noise. A dense layer sees different pixels each time; a convolution
// sees the same local pattern.
void write_bars(const fs::path& images_path, const fs::path& labels_path, int n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> noise(0, 60), pos(0, 5), cls(0, 2);
  Tensor images = zeros({n, 10, 10}, kInt64), labels = zeros({n}, kInt64);
  auto* px = images.data_ptr<std::int64_t>();
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 100; ++k) px[i * 100 + k] = noise(gen);
    const int c = cls(gen), r = pos(gen), s = pos(gen);
    for (int k = 0; k < 5; ++k) {
      const int y = c == 0 ? r : r + k, x = c == 1 ? s : s + k;
      px[i * 100 + y * 10 + x] = 255;
    }
    labels.set({i}, c);
  }
  data::write_idx(images_path, images, data::IdxType::UInt8);
  data::write_idx(labels_path, labels, data::IdxType::UInt8);
}

const char* kCnnConfig = R"(seed = 5
[data]
train_images = "train-images.idx"
train_labels = "train-labels.idx"
test_images = "test-images.idx"
test_labels = "test-labels.idx"
validation = 0.1
[model]
layers = ["conv2d 6 3x3 pad 1", "batchnorm", "relu", "maxpool 2", "dropout2d 0.1", "conv2d 8 3", "relu",
          "adaptive_avgpool", "linear"]
init = "he_uniform"
[optimizer]
name = "adam"
lr = 0.01
[schedule]
name = "step"
step_size = 2
gamma = 0.5
[training]
epochs = 6
batch_size = 32
progress = "quiet"
)";

class CliCnn : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    write_bars(dir_ / "train-images.idx", dir_ / "train-labels.idx", 600, 1);
    write_bars(dir_ / "test-images.idx", dir_ / "test-labels.idx", 200, 2);
    write("cnn.toml", kCnnConfig);
  }
};

TEST_F(CliCnn, LearnsLocalPatternsAndShowsLayerShapes) {
  const RunResult r = descent("train cnn.toml");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto evaluation = nlohmann::json::parse(slurp(dir_ / "runs/cnn/evaluation.json"));
  EXPECT_EQ(evaluation.at("split"), "test");
  const double accuracy = evaluation.at("accuracy").get<double>();
  EXPECT_GE(accuracy, 0.95) << evaluation.dump();

  const RunResult info = descent("info runs/cnn");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  // Each layer with its output shape and parameter count.
  EXPECT_THAT(info.out, ContainsRegex("0 \\(Conv2d\\) +\\[1, 6, 10, 10\\] +60\n"));
  EXPECT_THAT(info.out, ContainsRegex("1 \\(BatchNorm2d\\) +\\[1, 6, 10, 10\\] +12\n"));
  EXPECT_THAT(info.out, ContainsRegex("3 \\(MaxPool2d\\) +\\[1, 6, 5, 5\\] +0\n"));
  EXPECT_THAT(info.out, ContainsRegex("4 \\(Dropout2d\\) +\\[1, 6, 5, 5\\] +0\n"));
  EXPECT_THAT(info.out, ContainsRegex("5 \\(Conv2d\\) +\\[1, 8, 3, 3\\] +440\n"));
  EXPECT_THAT(info.out, ContainsRegex("7 \\(AdaptiveAvgPool2d\\) +\\[1, 8, 1, 1\\] +0\n"));

  // The saved model and the evaluation agree.
  const RunResult ev = descent("eval runs/cnn");
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_THAT(ev.out, ContainsRegex(fmt::format("accuracy +{:.4f}", accuracy)));
}

TEST_F(CliCnn, ResumeEqualsUninterruptedWithChannelDropoutAndBatchNorm) {
  ASSERT_EQ(descent("train cnn.toml --output full --set training.epochs=4").exit_code, 0);
  const RunResult first = descent("train cnn.toml --output parts --set training.epochs=2");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const RunResult second = descent("train cnn.toml --output parts --resume --set training.epochs=4");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto a = io::load_safetensors(dir_ / "full/model.safetensors");
  const auto b = io::load_safetensors(dir_ / "parts/model.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [k, t] : a.tensors) {
    const Tensor u = t.contiguous(), v = b.tensors.at(k).contiguous();
    ASSERT_EQ(u.shape(), v.shape()) << k;
    ASSERT_EQ(u.dtype(), v.dtype()) << k;
    const std::size_t bytes = u.numel() * (u.dtype() == kInt64 ? 8 : 4);
    EXPECT_EQ(0, std::memcmp(u.impl()->storage->data(), v.impl()->storage->data(), bytes)) << k << " differs";
  }
}

TEST_F(CliCnn, AConvolutionThatDoesNotFitIsRefusedBeforeTraining) {
  const RunResult r = descent(R"(train cnn.toml --set 'model.layers=["conv2d 4 3", "maxpool 2", "conv2d 4 5", "linear"]')");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("model.layers[2] 'conv2d 4 5'"));
  EXPECT_THAT(r.err, HasSubstr("[1, 4, 4, 4]"));
  EXPECT_FALSE(fs::exists(dir_ / "runs"));
}

}  // namespace
}  // namespace descent::cli::testing
