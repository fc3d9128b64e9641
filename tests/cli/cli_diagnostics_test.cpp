// Diagnostics through the descent program: on by default, printed with their remedy, logged per
// layer in metrics.csv, drawn in report.html; off with --no-diagnostics or the config key; a NaN
// stops training naming the layer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include <fmt/format.h>

#include "cli_fixture.h"

namespace descent::cli::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string config(const std::string& layers, const std::string& extra = "", const std::string& lr = "0.1") {
  return fmt::format(R"(seed = 1
[data]
train = "blobs.csv"
target = "label"
validation = 0.2
[model]
layers = {}
[optimizer]
name = "sgd"
lr = {}
[training]
epochs = 3
batch_size = 30
progress = "lines"
{}
)",
                     layers, lr, extra);
}

// 12 sigmoid layers: gradients vanish on the way back.
std::string deep_sigmoid() {
  std::string layers = "[";
  for (int k = 0; k < 12; ++k) layers += "\"linear 16\", \"sigmoid\", ";
  return layers + "\"linear\"]";
}

class CliDiagnostics : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    write("blobs.csv", blobs_csv_integer_labels(100, 1));
  }
};

TEST_F(CliDiagnostics, ADeepSigmoidNetworkIsDiagnosedPrintedLoggedAndDrawn) {
  write("deep.toml", config(deep_sigmoid()));
  const RunResult r = descent("train deep.toml");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("diagnosis at epoch 1: vanishing gradients: layer"));
  EXPECT_THAT(r.out, HasSubstr("remedy: replace sigmoid/tanh in the hidden layers by ReLU"));
  EXPECT_THAT(r.out, Not(HasSubstr("grad_norm")));  // the epoch lines stay short
  const std::string csv = slurp(dir_ / "runs/deep/metrics.csv");
  EXPECT_THAT(csv, HasSubstr("grad_norm.0"));
  EXPECT_THAT(csv, HasSubstr("update_ratio.24"));
  EXPECT_THAT(csv, HasSubstr("act_std.1"));
  const std::string html = slurp(dir_ / "runs/deep/report.html");
  EXPECT_THAT(html, HasSubstr("id=\"chart-gradient-flow\""));
  EXPECT_THAT(html, HasSubstr("id=\"chart-update-ratio\""));
  EXPECT_THAT(html, HasSubstr("<td>vanishing gradients</td>"));
  EXPECT_THAT(html, Not(HasSubstr("<th>grad_norm.0</th>")));  // not in the epochs table
}

TEST_F(CliDiagnostics, AHealthyRunSaysSoAndTheFlagTurnsItOff) {
  write("ok.toml", config(R"(["linear 16", "relu", "linear"])"));
  const RunResult r = descent("train ok.toml");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("diagnosis")));
  EXPECT_THAT(slurp(dir_ / "runs/ok/report.html"), HasSubstr("No problem found"));
  EXPECT_THAT(slurp(dir_ / "runs/ok/report.html"), HasSubstr("id=\"chart-dead-units\""));

  write("deep.toml", config(deep_sigmoid()));
  const RunResult off = descent("train deep.toml --no-diagnostics");
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_THAT(off.out, Not(HasSubstr("diagnosis")));
  EXPECT_THAT(slurp(dir_ / "runs/deep/metrics.csv"), Not(HasSubstr("grad_norm")));
  EXPECT_THAT(slurp(dir_ / "runs/deep/report.html"), Not(HasSubstr("Diagnostics</h2>")));

  write("deep2.toml", config(deep_sigmoid(), "diagnostics = false"));
  const RunResult key = descent("train deep2.toml");
  ASSERT_EQ(key.exit_code, 0) << key.out << key.err;
  EXPECT_THAT(key.out, Not(HasSubstr("diagnosis")));
}

TEST_F(CliDiagnostics, ANonFiniteOutputStopsTrainingNamingTheLayer) {
  // A learning rate of 1e38: the first step sends the weights to infinity.
  write("nan.toml", config(R"(["linear 16", "relu", "linear"])", "", "1e38"));
  const RunResult r = descent("train nan.toml");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("descent: error: Diagnostics: non-finite values at epoch 1, step 2: layer "));
  EXPECT_THAT(r.err, HasSubstr("(Linear) produced"));
  EXPECT_THAT(r.err, HasSubstr("lower the learning rate (now 1e+38)"));
}

}  // namespace
}  // namespace descent::cli::testing
