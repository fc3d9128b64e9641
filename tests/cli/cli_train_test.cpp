// End-to-end tests of `descent train / eval / predict / info` on small data the tests make: XOR, a
// linear regression with known weights, three classes with string labels; resume equals an
// uninterrupted run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "descent/io/safetensors.h"

namespace descent::cli::testing {
namespace {

using ::testing::HasSubstr;

std::string xor_csv() {
  std::string csv = "a,b,label\n";
  for (int rep = 0; rep < 4; ++rep) csv += "0,0,0\n0,1,1\n1,0,1\n1,1,0\n";
  return csv;
}

// y = 3 x1 - 2 x2 + 0.5 x3 + 4, exactly (no noise), so the weights are recoverable to high precision.
std::string linear_csv(int rows, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-2, 2);
  std::string csv = "x1,x2,x3,y\n";
  for (int i = 0; i < rows; ++i) {
    double x1 = u(gen), x2 = u(gen), x3 = u(gen);
    csv += fmt::format("{:.6f},{:.6f},{:.6f},{:.6f}\n", x1, x2, x3, 3 * x1 - 2 * x2 + 0.5 * x3 + 4);
  }
  return csv;
}

class CliTrain : public CliTest {};

TEST_F(CliTrain, LearnsXor) {
  write("xor.csv", xor_csv());
  write("xor.toml", R"(seed = 3
[data]
train = "xor.csv"
target = "label"
test = "xor.csv"
scaling = "none"
[model]
layers = ["linear 8", "tanh", "linear"]
init = "xavier_uniform"
[optimizer]
name = "adam"
lr = 0.05
[training]
epochs = 200
batch_size = 0
progress = "lines"
)");
  const RunResult r = descent("train xor.toml");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("test (16 examples): accuracy 1.0000"));
  EXPECT_THAT(r.out, HasSubstr("report: runs/xor/report.html"));
  for (const char* f : {"model.safetensors", "checkpoint-last.safetensors", "metrics.csv", "metrics.jsonl", "config.json", "report.html", "evaluation.json"})
    EXPECT_TRUE(fs::exists(dir_ / "runs/xor" / f)) << f;
  // Lines mode: one line per epoch.
  EXPECT_THAT(r.out, HasSubstr("epoch 200/200"));
}

TEST_F(CliTrain, LinearRegressionRecoversKnownWeights) {
  write("lin.csv", linear_csv(200, 1));
  write("lin.toml", R"([data]
train = "lin.csv"
target = "y"
task = "regression"
scaling = "none"
[model]
preset = "linear_regression"
[optimizer]
name = "sgd"
lr = 0.1
[training]
epochs = 300
batch_size = 0
progress = "quiet"
)");
  const RunResult r = descent("train lin.toml");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto content = io::load_safetensors(dir_ / "runs/lin/model.safetensors");
  const Tensor w = content.tensors.at("0.weight");
  const Tensor b = content.tensors.at("0.bias");
  ASSERT_EQ(w.shape(), (Shape{1, 3}));
  EXPECT_NEAR(w.at({0, 0}), 3.0, 1e-3);
  EXPECT_NEAR(w.at({0, 1}), -2.0, 1e-3);
  EXPECT_NEAR(w.at({0, 2}), 0.5, 1e-3);
  EXPECT_NEAR(b.at({0}), 4.0, 1e-3);
  // The closed form, next to it: the same weights.
  EXPECT_THAT(r.out, HasSubstr("closed form: w = [3.00"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("largest difference [0-9.e-]+\\)"));
  EXPECT_THAT(slurp(dir_ / "runs/lin/report.html"), HasSubstr("<th>closed form</th>"));

  // info describes it; predict writes one value per row.
  const RunResult info = descent("info runs/lin");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("Linear"));
  EXPECT_THAT(info.out, HasSubstr("targets: y"));
  write("new.csv", "x1,x2,x3\n1,1,1\n0,0,0\n");
  const RunResult p = descent("predict runs/lin new.csv -o pred.csv");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const std::string pred = slurp(dir_ / "pred.csv");
  EXPECT_THAT(pred, HasSubstr("y\n"));
  double v1 = 0, v2 = 0;
  ASSERT_EQ(std::sscanf(pred.c_str(), "y\n%lf\n%lf", &v1, &v2), 2) << pred;
  EXPECT_NEAR(v1, 5.5, 1e-2);
  EXPECT_NEAR(v2, 4.0, 1e-2);
}

TEST_F(CliTrain, ThreeClassesWithStringLabelsTrainEvaluateAndPredict) {
  write("blobs.csv", blobs_csv(40, 5));
  write("test.csv", blobs_csv(10, 6));
  write("blobs.toml", R"(seed = 1
[data]
train = "blobs.csv"
test = "test.csv"
target = "colour"
validation = 0.25
[model]
preset = "mlp"
hidden = [16]
[training]
epochs = 30
batch_size = 8
progress = "quiet"
[optimizer]
lr = 0.01
)");
  const RunResult r = descent("train blobs.toml");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("accuracy 1.0000"));

  const RunResult e = descent("eval runs/blobs --json eval.json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_THAT(e.out, HasSubstr("blue"));  // classes are sorted: blue, green, red
  const auto j = nlohmann::json::parse(slurp(dir_ / "eval.json"));
  EXPECT_EQ(j["classes"], (nlohmann::json{"blue", "green", "red"}));
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 1.0);

  write("points.csv", "colour,y,x\nred,3,0\nblue,-2,-3\n");  // columns in another order, targets ignored
  const RunResult p = descent("predict runs/blobs points.csv -o -");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_THAT(p.out, HasSubstr("prediction,probability_blue,probability_green,probability_red\nred,"));
  EXPECT_THAT(p.out, HasSubstr("\nblue,"));

  const std::string report = slurp(dir_ / "runs/blobs/report.html");
  for (const char* id : {"chart-loss", "chart-accuracy", "chart-lr", "chart-steps", "chart-confusion"})
    EXPECT_THAT(report, HasSubstr(fmt::format("id=\"{}\"", id)));
}

TEST_F(CliTrain, ResumeEqualsUninterrupted) {
  write("blobs.csv", blobs_csv(30, 8));
  const std::string config = R"(seed = 4
[data]
train = "blobs.csv"
target = "colour"
validation = 0.2
[model]
hidden = [12]
dropout = 0.1
[schedule]
name = "step"
step_size = 2
gamma = 0.5
[training]
epochs = 4
batch_size = 10
progress = "quiet"
)";
  write("run.toml", config);
  ASSERT_EQ(descent("train run.toml --output full").exit_code, 0);
  const RunResult first = descent("train run.toml --output parts --set training.epochs=2");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const RunResult second = descent("train run.toml --output parts --resume");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("resuming parts after epoch 2"));

  const auto a = io::load_safetensors(dir_ / "full/model.safetensors");
  const auto b = io::load_safetensors(dir_ / "parts/model.safetensors");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [k, t] : a.tensors) {
    const Tensor u = t.contiguous(), v = b.tensors.at(k).contiguous();
    ASSERT_EQ(u.shape(), v.shape()) << k;
    EXPECT_EQ(0, std::memcmp(u.data_ptr<float>(), v.data_ptr<float>(), sizeof(float) * u.numel())) << k << " differs";
  }
  // The losses of every epoch agree exactly too (the logs are the same but for the timings).
  auto losses = [&](const char* run) {
    std::vector<double> out;
    std::istringstream in(slurp(dir_ / run / "metrics.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line)["val_loss"].get<double>());
    return out;
  };
  EXPECT_EQ(losses("full"), losses("parts"));
  EXPECT_EQ(losses("full").size(), 4u);
}

TEST_F(CliTrain, AFreshRunNeverOverwritesAnEarlierOne) {
  write("xor.csv", xor_csv());
  write("x.toml", "[data]\ntrain = \"xor.csv\"\ntarget = \"label\"\n[training]\nepochs = 1\nprogress = \"quiet\"\n");
  ASSERT_EQ(descent("train x.toml").exit_code, 0);
  const RunResult again = descent("train x.toml");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("runs/x-2"));
  EXPECT_TRUE(fs::exists(dir_ / "runs/x/model.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "runs/x-2/model.safetensors"));
}

TEST_F(CliTrain, HelpAndVersion) {
  const RunResult help = descent("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* cmd : {"train", "eval", "predict", "info"}) EXPECT_THAT(help.out, HasSubstr(cmd));
  const RunResult train_help = descent("train --help");
  EXPECT_EQ(train_help.exit_code, 0);
  EXPECT_THAT(train_help.out, HasSubstr("--resume"));
  const RunResult keys = descent("train --help-config");
  EXPECT_EQ(keys.exit_code, 0);
  EXPECT_THAT(keys.out, HasSubstr("batch_size"));
  const RunResult version = descent("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("descent 0."));
  const RunResult none = descent("");
  EXPECT_NE(none.exit_code, 0);
  const RunResult unknown = descent("fly");
  EXPECT_NE(unknown.exit_code, 0);
}

}  // namespace
}  // namespace descent::cli::testing
