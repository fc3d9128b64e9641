#include "config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_fixture.h"
#include "descent/core/error.h"

namespace descent::cli::testing {
namespace {

using ::testing::HasSubstr;

class ConfigTest : public CliTest {
 protected:
  template <typename F>
  std::string error_of(F&& f) {
    try {
      f();
    } catch (const descent::Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }
};

TEST_F(ConfigTest, TomlAndJsonGiveTheSameResolvedConfiguration) {
  const auto t = write("a.toml", "seed = 5\n[training]\nepochs = 3\n[optimizer]\nname = \"sgd\"\nlr = 0.5\nbetas = [0.8, 0.9]\n");
  const auto j = write("a.json", R"({"seed": 5, "training": {"epochs": 3}, "optimizer": {"name": "sgd", "lr": 0.5, "betas": [0.8, 0.9]}})");
  const Config a = Config::load(t), b = Config::load(j);
  EXPECT_EQ(a.json(), b.json());
  EXPECT_EQ(a.integer("seed"), 5);
  EXPECT_EQ(a.integer("training.epochs"), 3);
  EXPECT_EQ(a.integer("training.batch_size"), 64);  // default
  EXPECT_DOUBLE_EQ(a.number("optimizer.lr"), 0.5);
  EXPECT_EQ(a.numbers("optimizer.betas"), (std::vector<double>{0.8, 0.9}));
  EXPECT_FALSE(a.has("optimizer.momentum"));
  EXPECT_EQ(a.set_keys("optimizer"), (std::vector<std::string>{"betas", "lr", "name"}));
}

TEST_F(ConfigTest, UnknownKeysNameTheKeyTheLineAndTheKnownKeys) {
  const auto p = write("a.toml", "seed = 1\n\n[training]\nepochs = 3\nbatchsize = 4\n");
  const std::string e = error_of([&] { Config::load(p); });
  EXPECT_THAT(e, HasSubstr("a.toml:5: unknown key 'training.batchsize'"));
  EXPECT_THAT(e, HasSubstr("batch_size"));
  const auto q = write("b.toml", "[trainig]\nepochs = 3\n");
  EXPECT_THAT(error_of([&] { Config::load(q); }), HasSubstr("b.toml:1: unknown key 'trainig' (known keys: seed, output, threads, data, model"));
}

TEST_F(ConfigTest, WrongTypesNameTheKeyAndTheValue) {
  const auto p = write("a.toml", "[training]\nepochs = \"ten\"\n");
  EXPECT_THAT(error_of([&] { Config::load(p); }), HasSubstr("a.toml:2: key 'training.epochs' must be an integer, got \"ten\""));
  const auto q = write("b.toml", "[model]\nhidden = [1, \"x\"]\n");
  EXPECT_THAT(error_of([&] { Config::load(q); }), HasSubstr("must be a list of integers"));
  const auto r = write("c.toml", "[training]\nepochs = 2.5\n");
  EXPECT_THAT(error_of([&] { Config::load(r); }), HasSubstr("must be an integer, got 2.5"));
  // A number key takes an integer.
  const auto s = write("d.toml", "[optimizer]\nlr = 1\n");
  EXPECT_DOUBLE_EQ(Config::load(s).number("optimizer.lr"), 1.0);
}

TEST_F(ConfigTest, OverridesParseValuesAndAreChecked) {
  const auto p = write("a.toml", "[training]\nepochs = 3\n");
  const Config c = Config::load(p, {"training.epochs=7", "optimizer.name=sgd", "model.hidden=[3, 4]", "training.shuffle=false",
                                     "optimizer.lr=1e-3"});
  EXPECT_EQ(c.integer("training.epochs"), 7);
  EXPECT_EQ(c.string("optimizer.name"), "sgd");
  EXPECT_EQ(c.integers("model.hidden"), (std::vector<std::int64_t>{3, 4}));
  EXPECT_FALSE(c.boolean("training.shuffle"));
  EXPECT_DOUBLE_EQ(c.number("optimizer.lr"), 1e-3);
  EXPECT_THAT(error_of([&] { Config::load(p, {"training.epoch=7"}); }), HasSubstr("unknown key 'training.epoch'"));
  EXPECT_THAT(error_of([&] { Config::load(p, {"training.epochs"}); }), HasSubstr("expected key=value"));
  EXPECT_THAT(error_of([&] { Config::load(p, {"training.epochs=many"}); }), HasSubstr("must be an integer, got \"many\""));
}

TEST_F(ConfigTest, DataPathsAreRelativeToTheConfigurationFile) {
  const auto p = write("sub/a.toml", "[data]\ntrain = \"d.csv\"\ntest = \"/abs/t.csv\"\n");
  const Config c = Config::load(p);
  EXPECT_EQ(fs::path(c.string("data.train")), (dir_ / "sub/d.csv").lexically_normal());
  EXPECT_EQ(c.string("data.test"), "/abs/t.csv");
  // From --set: relative to the current folder.
  const Config d = Config::load(p, {"data.train=other.csv"});
  EXPECT_EQ(fs::path(d.string("data.train")), (fs::current_path() / "other.csv").lexically_normal());
}

TEST_F(ConfigTest, SyntaxErrorsGiveLineAndColumn) {
  const auto p = write("a.toml", "seed = 1\n[training\nepochs = 3\n");
  EXPECT_THAT(error_of([&] { Config::load(p); }), HasSubstr("a.toml:2:"));
  const auto q = write("a.json", "{\"seed\": }");
  EXPECT_THAT(error_of([&] { Config::load(q); }), HasSubstr("a.json: invalid JSON"));
  const auto r = write("a.yaml", "seed: 1");
  EXPECT_THAT(error_of([&] { Config::load(r); }), HasSubstr(".toml or .json"));
  EXPECT_THAT(error_of([&] { Config::load(dir_ / "missing.toml"); }), HasSubstr("missing.toml"));
}

TEST_F(ConfigTest, ResolvedConfigurationRoundTrips) {
  const auto p = write("a.toml", "seed = 9\n[model]\nlayers = [\"linear 4\", \"relu\", \"linear\"]\n");
  const Config c = Config::load(p);
  const Config d = Config::from_resolved(c.json().dump(), "checkpoint");
  EXPECT_EQ(c.json(), d.json());
  EXPECT_THAT(describe_schema(), HasSubstr("[training.early_stopping]"));
}

}  // namespace
}  // namespace descent::cli::testing
