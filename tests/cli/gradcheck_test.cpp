// descent gradcheck, in-process: configured models (an MLP on CSV, a CNN on IDX images, batch norm
// and dropout) pass; a loss whose backward misses a term fails and the report names the tensor;
// bad arguments are errors that name the value.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "cli_fixture.h"
#include "descent/core/error.h"
#include "descent/data/idx.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "gradcheck_command.h"

namespace descent::cli::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// n 8x8 images over uniform noise, a bright bar in one of two orientations.
void write_bars(const fs::path& images_path, const fs::path& labels_path, int n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> noise(0, 60), pos(0, 3), cls(0, 1);
  Tensor images = zeros({n, 8, 8}, kInt64), labels = zeros({n}, kInt64);
  auto* px = images.data_ptr<std::int64_t>();
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 64; ++k) px[i * 64 + k] = noise(gen);
    const int c = cls(gen), r = pos(gen), s = pos(gen);
    for (int k = 0; k < 4; ++k) px[i * 64 + (c == 0 ? r : r + k) * 8 + (c == 1 ? s : s + k)] = 200 + 10 * k;
    labels.set({i}, c);
  }
  data::write_idx(images_path, images, data::IdxType::UInt8);
  data::write_idx(labels_path, labels, data::IdxType::UInt8);
}

std::string mlp_config(const std::string& layers) {
  return fmt::format(R"(seed = 7
[data]
train = "blobs.csv"
target = "colour"
[model]
layers = [{}]
[training]
epochs = 1
)",
                     layers);
}

class GradcheckCommand : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    write("blobs.csv", blobs_csv(10, 3));
  }
  // Runs the command in-process; the output goes to out_.
  int run(GradcheckArgs args) {
    out_.str("");
    std::ostringstream err;
    return gradcheck_command(args, out_, err);
  }
  GradcheckArgs args_for(const std::string& config_name) const {
    GradcheckArgs args;
    args.config = (dir_ / config_name).string();
    return args;
  }
  std::ostringstream out_;
};

TEST_F(GradcheckCommand, MlpOnCsvPassesAndNamesEveryParameter) {
  write("mlp.toml", mlp_config(R"("linear 6", "tanh", "linear 5", "relu", "linear")"));
  ASSERT_EQ(run(args_for("mlp.toml")), 0) << out_.str();
  const std::string out = out_.str();
  for (const char* name : {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"})
    EXPECT_THAT(out, ContainsRegex(fmt::format("\n  {} +", name))) << name << "\n" << out;
  EXPECT_THAT(out, HasSubstr("6x2"));
  EXPECT_THAT(out, HasSubstr("all 12"));  // 0.weight: every element of a small tensor
  EXPECT_THAT(out, HasSubstr("4 training examples of 30, float64, training mode"));
  EXPECT_THAT(out, HasSubstr("\nPASS: "));
  EXPECT_THAT(out, Not(HasSubstr("FAIL")));
}

TEST_F(GradcheckCommand, PenaltiesAreIncludedInTheLoss) {
  write("mlp.toml", mlp_config(R"("linear 4", "sigmoid", "linear")"));
  GradcheckArgs args = args_for("mlp.toml");
  ASSERT_EQ(run(args), 0) << out_.str();
  const std::string plain = out_.str();
  args.overrides = {"training.l2=0.5", "training.l1=0.1"};
  ASSERT_EQ(run(args), 0) << out_.str();
  // The loss printed differs by the penalties' value.
  auto loss_line = [](const std::string& text) { return text.substr(text.find("loss on the batch"), 40); };
  EXPECT_NE(loss_line(plain), loss_line(out_.str()));
}

TEST_F(GradcheckCommand, CnnOnIdxImagesPasses) {
  write_bars(dir_ / "images.idx", dir_ / "labels.idx", 20, 1);
  write("cnn.toml", R"(seed = 2
[data]
train_images = "images.idx"
train_labels = "labels.idx"
[model]
layers = ["conv2d 3 3x3 pad 1", "relu", "maxpool 2", "conv2d 4 3", "tanh", "linear"]
init = "he_uniform"
[training]
epochs = 1
)");
  GradcheckArgs args = args_for("cnn.toml");
  args.batch = 3;
  ASSERT_EQ(run(args), 0) << out_.str();
  const std::string out = out_.str();
  for (const char* name : {"0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"})
    EXPECT_THAT(out, ContainsRegex(fmt::format("\n  {} +", name))) << name << "\n" << out;
  EXPECT_THAT(out, HasSubstr("3x1x3x3"));
  EXPECT_THAT(out, HasSubstr("3 training examples of 20"));
}

TEST_F(GradcheckCommand, BatchNormAndDropoutPassInTrainingAndEvaluationMode) {
  write("bn.toml",
        mlp_config(R"("linear 8", "batchnorm", "relu", "dropout 0.3", "linear 6", "tanh", "dropout 0.5", "linear")"));
  GradcheckArgs args = args_for("bn.toml");
  args.batch = 8;
  ASSERT_EQ(run(args), 0) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("training mode (dropout masks fixed for every evaluation; batch norm normalizes "
                                    "with the batch's statistics)"));
  for (const char* name : {"0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "7.weight", "7.bias"})
    EXPECT_THAT(out_.str(), ContainsRegex(fmt::format("\n  {} +", name))) << name;
  args.eval = true;
  ASSERT_EQ(run(args), 0) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("evaluation mode (dropout off, batch norm uses its running statistics)"));
}

TEST_F(GradcheckCommand, LargeTensorsAreSampledDeterministically) {
  write("wide.toml", mlp_config(R"("linear 300", "tanh", "linear")"));
  GradcheckArgs args = args_for("wide.toml");
  args.elements = 50;
  ASSERT_EQ(run(args), 0) << out_.str();
  const std::string first = out_.str();
  EXPECT_THAT(first, HasSubstr("50 of 600"));  // 0.weight 300x2
  EXPECT_THAT(first, HasSubstr("50 of 900"));  // 2.weight 3x300
  EXPECT_THAT(first, HasSubstr("all 3"));      // 2.bias
  ASSERT_EQ(run(args), 0);
  // The same elements (and so the same worst element) every time; the timing line may differ.
  EXPECT_EQ(first.substr(0, first.find("PASS")), out_.str().substr(0, out_.str().find("PASS")));
}

TEST_F(GradcheckCommand, RegressionWithHuberLossAndSeedOption) {
  std::string csv = "a,b,y\n";
  for (int i = 0; i < 12; ++i) csv += fmt::format("{},{},{}\n", 0.3 * i - 1, 0.1 * i * i - 2, 2.5 * i - 7);
  write("reg.csv", csv);
  write("reg.toml", R"(seed = 1
[data]
train = "reg.csv"
target = "y"
task = "regression"
[model]
layers = ["linear 5", "elu", "linear"]
[loss]
name = "huber"
)");
  GradcheckArgs args = args_for("reg.toml");
  ASSERT_EQ(run(args), 0) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("loss huber"));
  const std::string seed1 = out_.str();
  args.seed = 2;  // another initialization: another loss
  ASSERT_EQ(run(args), 0) << out_.str();
  EXPECT_THAT(out_.str(), HasSubstr("seed 2"));
  auto loss_line = [](const std::string& text) { return text.substr(text.find("loss on the batch"), 40); };
  EXPECT_NE(loss_line(seed1), loss_line(out_.str()));
}

TEST_F(GradcheckCommand, ZeroToleranceFailsWithExitCodeOne) {
  write("mlp.toml", mlp_config(R"("linear 3", "tanh", "linear")"));
  GradcheckArgs args = args_for("mlp.toml");
  args.atol = 0;
  args.rtol = 0;  // finite differences are never exact
  EXPECT_EQ(run(args), 1);
  EXPECT_THAT(out_.str(), HasSubstr("\nFAIL: "));
  EXPECT_THAT(out_.str(), HasSubstr("0.weight ("));
}

TEST_F(GradcheckCommand, BadArgumentsNameTheValue) {
  write("mlp.toml", mlp_config(R"("linear 3", "tanh", "linear")"));
  GradcheckArgs args = args_for("mlp.toml");
  auto message = [&](const GradcheckArgs& a) -> std::string {
    try {
      run(a);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  args.batch = 0;
  EXPECT_THAT(message(args), HasSubstr("--batch must be > 0, got 0"));
  EXPECT_THROW(run(args), ValueError);
  args.batch = 4;
  args.eps = -1e-6;
  EXPECT_THAT(message(args), HasSubstr("--eps must be > 0, got -1e-06"));
  args.eps = 0;
  EXPECT_THROW(run(args), ValueError);
  args.eps = 1e-6;
  args.overrides = {"training.nonsense=3"};
  EXPECT_THAT(message(args), HasSubstr("nonsense"));
  EXPECT_THROW(run(args), ValueError);
  args.overrides = {"data.train=missing.csv"};
  EXPECT_THAT(message(args), HasSubstr("missing.csv"));
  EXPECT_THROW(run(args), IOError);
}

// --- check_parameter_gradients on hand-made losses ------------------------------------------------

std::vector<std::pair<std::string, Tensor>> two_parameters() {
  Tensor w = tensor({0.5, -1.25, 2.0, 0.75}, {2, 2}, kFloat64);
  Tensor b = tensor({0.3, -0.7}, {2}, kFloat64);
  w.requires_grad_();
  b.requires_grad_();
  return {{"w", w}, {"b", b}};
}

TEST(CheckParameterGradients, CorrectGradientsPass) {
  const auto params = two_parameters();
  const Tensor& w = params[0].second;
  const Tensor& b = params[1].second;
  const auto report = check_parameter_gradients([&] { return sum(tanh(w * w) + b * b * b) + sum(w) * sum(b); }, params);
  ASSERT_EQ(report.parameters.size(), 2u);
  EXPECT_TRUE(report.ok()) << format_gradcheck_report(report, {});
  EXPECT_EQ(report.parameters[0].checked, 4);
  EXPECT_EQ(report.parameters[1].checked, 2);
  EXPECT_LT(report.parameters[0].max_rel_error, 1e-7);
  // The parameters are left as they were.
  EXPECT_EQ(w.flat(1), -1.25);
  EXPECT_EQ(b.flat(1), -0.7);
}

TEST(CheckParameterGradients, AMissingTermInTheBackwardIsCaught) {
  const auto params = two_parameters();
  const Tensor& w = params[0].second;
  const Tensor& b = params[1].second;
  // d/dw sum(w * w) is 2w, but detaching one factor makes backward compute only w; b is right.
  const auto report = check_parameter_gradients([&] { return sum(w * w.detach()) + sum(b * b); }, params);
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(report.parameters[0].ok());
  EXPECT_EQ(report.parameters[0].failures, 4);
  EXPECT_TRUE(report.parameters[1].ok());
  // The worst element is the largest |w|: w = 2 at flat index 2, [1, 0]; analytic 2, numeric 4.
  EXPECT_EQ(report.parameters[0].worst_index, 2);
  EXPECT_NEAR(report.parameters[0].worst_analytic, 2.0, 1e-12);
  EXPECT_NEAR(report.parameters[0].worst_numeric, 4.0, 1e-6);
  EXPECT_NEAR(report.parameters[0].max_rel_error, 0.5, 1e-6);
  const std::string text = format_gradcheck_report(report, {});
  EXPECT_THAT(text, HasSubstr("FAIL: 1 of 2 tensors"));
  EXPECT_THAT(text, HasSubstr("w (4 of 4 elements)"));
  EXPECT_THAT(text, HasSubstr("[1, 0]"));
}

TEST(CheckParameterGradients, AParameterWithoutGradientIsComparedAsZero) {
  const auto params = two_parameters();
  const Tensor& w = params[0].second;
  const Tensor& b = params[1].second;
  // b only enters through a detached path: backward gives it nothing, the loss depends on it.
  const auto report = check_parameter_gradients([&] { return sum(w * w) + sum(b.detach() * 3.0); }, params);
  EXPECT_TRUE(report.parameters[0].ok());
  EXPECT_FALSE(report.parameters[1].ok());
  EXPECT_NEAR(report.parameters[1].worst_numeric, 3.0, 1e-6);
  EXPECT_EQ(report.parameters[1].worst_analytic, 0.0);
}

TEST(CheckParameterGradients, RejectsBadOptionsAndFloat32) {
  const auto params = two_parameters();
  const auto loss = [&] { return sum(params[0].second) + sum(params[1].second); };
  EXPECT_THROW(check_parameter_gradients(loss, params, {.eps = 0}), ValueError);
  EXPECT_THROW(check_parameter_gradients(loss, params, {.atol = -1}), ValueError);
  EXPECT_THROW(check_parameter_gradients(loss, params, {.max_elements = 0}), ValueError);
  Tensor f = ones({2}, kFloat32);
  f.requires_grad_();
  EXPECT_THROW(check_parameter_gradients([&] { return sum(f); }, {{"f", f}}), DTypeError);
}

TEST(CheckParameterGradients, SamplesAtMostMaxElements) {
  Tensor w = zeros({40, 25}, kFloat64);
  for (std::int64_t i = 0; i < w.numel(); ++i) w.set_flat(i, 0.001 * static_cast<double>(i % 97) - 0.03);
  w.requires_grad_();
  const auto report =
      check_parameter_gradients([&] { return sum(w * w * w); }, {{"w", w}}, {.max_elements = 30, .seed = 4});
  EXPECT_EQ(report.parameters[0].checked, 30);
  EXPECT_TRUE(report.ok()) << format_gradcheck_report(report, {});
}

}  // namespace
}  // namespace descent::cli::testing
