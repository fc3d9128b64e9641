// Bad input to the descent program: each case exits non-zero with one clear message naming the
// file, line, column or key, and leaves no output behind (no run folder, no half-written file).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "cli_fixture.h"
#include "descent/core/tensor.h"
#include "descent/data/idx.h"

namespace descent::cli::testing {
namespace {

using ::testing::HasSubstr;

class CliErrors : public CliTest {
 protected:
  // Trains `config` (written as bad.toml) and expects failure with `message` on stderr.
  void expect_failure(const std::string& config, const std::string& message, const std::string& extra_args = "") {
    write("bad.toml", config);
    const RunResult r = descent("train bad.toml " + extra_args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_THAT(r.err, HasSubstr("descent: error: "));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one message: " << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "runs/bad")) << "a failed run left a folder behind";
  }

  std::string csv_config(const std::string& file, const std::string& target = "label") {
    return fmt::format("[data]\ntrain = \"{}\"\ntarget = \"{}\"\n[training]\nepochs = 1\nprogress = \"quiet\"\n", file, target);
  }

  std::string idx_config() {
    return "[data]\ntrain_images = \"images.idx\"\ntrain_labels = \"labels.idx\"\n[training]\nepochs = 1\nprogress = \"quiet\"\n";
  }

  void write_good_idx(std::int64_t images, std::int64_t labels) {
    data::write_idx(dir_ / "images.idx", zeros({images, 4, 4}), data::IdxType::UInt8);
    data::write_idx(dir_ / "labels.idx", zeros({labels}, kInt64), data::IdxType::UInt8);
  }
};

TEST_F(CliErrors, MissingConfigurationFile) {
  const RunResult r = descent("train nowhere.toml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("nowhere.toml"));
}

TEST_F(CliErrors, MissingDataFile) { expect_failure(csv_config("absent.csv"), "absent.csv"); }

TEST_F(CliErrors, IdxWithWrongMagic) {
  write_good_idx(10, 10);
  write("images.idx", std::string("\x12\x34\x08\x03\x00\x00\x00\x0a\x00\x00\x00\x04\x00\x00\x00\x04", 16) + std::string(160, '\0'));
  expect_failure(idx_config(), "images.idx");
}

TEST_F(CliErrors, TruncatedIdx) {
  write_good_idx(10, 10);
  write("images.idx", std::string("\x00\x00\x08\x03\x00\x00\x00\x0a\x00\x00\x00\x04\x00\x00\x00\x04", 16) + std::string(100, '\0'));
  expect_failure(idx_config(), "images.idx");
}

TEST_F(CliErrors, IdxImagesAndLabelsDisagree) {
  write_good_idx(10, 8);
  expect_failure(idx_config(), "holds 10 examples but");
}

TEST_F(CliErrors, RaggedCsvRow) {
  write("d.csv", "a,b,label\n1,2,0\n3,1\n");
  expect_failure(csv_config("d.csv"), "d.csv:3");
}

TEST_F(CliErrors, NonNumericCsvValue) {
  write("d.csv", "a,b,label\n1,2,0\n3,abc,1\n");
  expect_failure(csv_config("d.csv"), "abc");
}

TEST_F(CliErrors, TargetColumnThatDoesNotExist) {
  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  expect_failure(csv_config("d.csv", "species"), "species");
}

TEST_F(CliErrors, UnknownConfigurationKey) {
  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  expect_failure(csv_config("d.csv") + "[optimizer]\nlrr = 0.1\n", "bad.toml:8: unknown key 'optimizer.lrr'");
}

TEST_F(CliErrors, WrongTypeOfConfigurationValue) {
  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  expect_failure(csv_config("d.csv"), "key 'training.epochs' must be an integer, got \"ten\"", "--set training.epochs='\"ten\"'");
}

TEST_F(CliErrors, UnknownKeyFromTheCommandLine) {
  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  expect_failure(csv_config("d.csv"), "unknown key 'training.epoch'", "--set training.epoch=3");
}

TEST_F(CliErrors, LayerSizesThatDoNotFitTheData) {
  write("d.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,z\n");
  expect_failure(csv_config("d.csv") + "[model]\nlayers = [\"linear 8\", \"relu\", \"linear 5\"]\n",
                 "the model ends with 5 outputs per example, the data needs 3 classes");
}

TEST_F(CliErrors, UnknownLayer) {
  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  expect_failure(csv_config("d.csv") + "[model]\nlayers = [\"linear 8\", \"swish\", \"linear\"]\n", "model.layers[1] 'swish'");
}

TEST_F(CliErrors, OptimizerOptionItDoesNotHave) {
  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  expect_failure(csv_config("d.csv") + "[optimizer]\nname = \"sgd\"\nbetas = [0.9, 0.99]\n", "sgd has no option 'betas'");
}

TEST_F(CliErrors, DivergingLossStopsWithTheStep) {
  write("d.csv", "a,b,y\n1,2,3\n3,4,7\n5,6,11\n");
  write("bad.toml", "[data]\ntrain = \"d.csv\"\ntarget = \"y\"\ntask = \"regression\"\nscaling = \"none\"\n"
                    "[model]\npreset = \"linear_regression\"\n[optimizer]\nname = \"sgd\"\nlr = 1e6\n"
                    "[training]\nepochs = 50\nbatch_size = 1\nprogress = \"quiet\"\n");
  const RunResult r = descent("train bad.toml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("step"));
  EXPECT_FALSE(fs::exists(dir_ / "runs/bad/model.safetensors"));
  EXPECT_FALSE(fs::exists(dir_ / "runs/bad/report.html"));
}

TEST_F(CliErrors, EvalAndPredictOnBadInputs) {
  const RunResult missing = descent("eval nothing-here");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nothing-here"));
  write("not-a-model.safetensors", "garbage");
  const RunResult garbage = descent("info not-a-model.safetensors");
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_THAT(garbage.err, HasSubstr("not-a-model.safetensors"));

  write("d.csv", "a,b,label\n1,2,0\n3,4,1\n1,3,0\n4,4,1\n");
  write("ok.toml", csv_config("d.csv"));
  ASSERT_EQ(descent("train ok.toml").exit_code, 0);
  write("fewer.csv", "a\n1\n");
  const RunResult p = descent("predict runs/ok fewer.csv -o out.csv");
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_THAT(p.err, HasSubstr("'b'"));
  EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
}

}  // namespace
}  // namespace descent::cli::testing
