// Checkpoints: sections and metadata round trip, training resumed from a checkpoint is bit for bit
// the uninterrupted run, and files that are not checkpoints are refused.
#include "descent/io/checkpoint.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "descent/core/generator.h"
#include "descent/io/atomic_file.h"
#include "descent/io/safetensors.h"
#include "descent/nn/activation.h"
#include "descent/nn/linear.h"
#include "descent/nn/loss.h"
#include "descent/nn/sequential.h"
#include "descent/optim/optimizers.h"
#include "io/io_test_util.h"
#include "ops/op_check.h"

namespace {

using descent::IOError;
using descent::Tensor;
using descent::ValueError;
using descent::io::Checkpoint;
using descent::io::load_checkpoint;
using descent::io::map_of;
using descent::io::save_checkpoint;
using iotest::ScratchDir;

TEST(Checkpoint, SectionsAndMetadataRoundTrip) {
  ScratchDir dir;
  descent::Generator gen(5);
  Checkpoint c;
  c.sections["model"] = {{"0.weight", descent::randn({3, 2}, gen)}, {"0.bias", descent::randn({3}, gen)}};
  c.sections["optimizer"] = {{"state.0.step", descent::scalar_tensor(4, descent::kFloat64)},
                             {"param_groups.0.params", descent::tensor_int64({0, 1}, {2})}};
  c.sections["rng"] = {{"state", descent::tensor_int64({1, 2, 3, 4}, {4})}};
  c.sections["scheduler"] = {};                            // empty sections survive
  c.sections["nested"] = {{"a/b/c", descent::ones({1})}};  // a key may contain '/': only the first one splits
  c.metadata = {{"epoch", "3"}, {"config", R"({"lr": 0.1})"}, {"history", ""}};
  save_checkpoint(dir / "c.safetensors", c);

  const Checkpoint loaded = load_checkpoint(dir / "c.safetensors");
  EXPECT_EQ(loaded.metadata, c.metadata);  // "format" and "sections" are the file's business
  ASSERT_EQ(loaded.sections.size(), c.sections.size());
  for (const auto& [name, section] : c.sections) {
    const auto& got = loaded.section(name);
    ASSERT_EQ(got.size(), section.size()) << name;
    for (const auto& [key, tensor] : section) {
      ASSERT_TRUE(got.contains(key)) << name << "/" << key;
      EXPECT_EQ(got.at(key).dtype(), tensor.dtype());
      EXPECT_EQ(got.at(key).shape(), tensor.shape());
      EXPECT_EQ(got.at(key).to_vector<double>(), tensor.to_vector<double>()) << name << "/" << key;
    }
  }
  EXPECT_EQ(loaded.meta("epoch"), "3");

  // It is an ordinary safetensors file with "<section>/<key>" names.
  const auto raw = descent::io::load_safetensors(dir / "c.safetensors");
  EXPECT_TRUE(raw.tensors.contains("model/0.weight"));
  EXPECT_TRUE(raw.tensors.contains("nested/a/b/c"));
  EXPECT_EQ(raw.metadata.at("format"), "descent-checkpoint-1");
}

TEST(Checkpoint, MissingSectionOrMetadataIsNamed) {
  Checkpoint c;
  c.sections["model"] = {};
  c.metadata["epoch"] = "1";
  EXPECT_THROW_WITH(c.section("optimizer"), IOError, "no section 'optimizer'", "model");
  EXPECT_THROW_WITH(c.meta("step"), IOError, "no metadata 'step'", "epoch");
  EXPECT_THROW_WITH(Checkpoint().section("model"), IOError, "sections: none");
}

TEST(Checkpoint, BadSectionNamesAndReservedMetadataAreRefused) {
  ScratchDir dir;
  const auto path = dir / "bad.safetensors";
  Checkpoint slash;
  slash.sections["model/x"] = {{"w", descent::ones({1})}};
  EXPECT_THROW_WITH(save_checkpoint(path, slash), ValueError, "section name 'model/x'", "'/'", "bad.safetensors");
  Checkpoint empty;
  empty.sections[""] = {};
  EXPECT_THROW_WITH(save_checkpoint(path, empty), ValueError, "section name ''", "non-empty");
  for (const char* key : {"format", "sections"}) {
    Checkpoint reserved;
    reserved.metadata[key] = "mine";
    EXPECT_THROW_WITH(save_checkpoint(path, reserved), ValueError, key, "reserved");
  }
  EXPECT_TRUE(dir.files().empty());
}

TEST(Checkpoint, OtherFilesAreRefused) {
  ScratchDir dir;
  const auto plain = dir / "weights.safetensors";
  descent::io::save_safetensors(plain, {{"model/w", descent::ones({1})}}, {{"format", "pt"}});
  EXPECT_THROW_WITH(load_checkpoint(plain), IOError, plain.string().c_str(), "not a descent checkpoint", "'pt'");

  const auto no_meta = dir / "no_meta.safetensors";
  descent::io::save_safetensors(no_meta, {{"w", descent::ones({1})}});
  EXPECT_THROW_WITH(load_checkpoint(no_meta), IOError, no_meta.string().c_str(), "not a descent checkpoint",
                    "no \"format\"");

  const auto loose = dir / "loose.safetensors";
  descent::io::save_safetensors(loose, {{"w", descent::ones({1})}}, {{"format", "descent-checkpoint-1"}});
  EXPECT_THROW_WITH(load_checkpoint(loose), IOError, loose.string().c_str(), "tensor 'w' belongs to no section");

  const auto garbage = dir / "garbage.safetensors";
  descent::io::write_file_atomically(garbage, std::string_view("this is not a checkpoint"));
  EXPECT_THROW_WITH(load_checkpoint(garbage), IOError, garbage.string().c_str());

  EXPECT_THROW_WITH(load_checkpoint(dir / "missing.safetensors"), IOError, "missing.safetensors", "cannot open");
}

TEST(Checkpoint, MapOfKeepsTheStateDictsTensors) {
  descent::nn::Sequential model{descent::nn::Linear({.in_features = 2, .out_features = 3}), descent::nn::Tanh(),
                                descent::nn::Linear({.in_features = 3, .out_features = 1})};
  const auto state = model.state_dict();
  const auto map = map_of(state);
  EXPECT_EQ(map.size(), 4u);
  for (const auto& [key, tensor] : state) {
    ASSERT_TRUE(map.contains(key)) << key;
    EXPECT_EQ(map.at(key).impl()->storage, tensor.impl()->storage) << key;
  }
}

// --- resuming training -------------------------------------------------------------------------------

std::shared_ptr<descent::nn::Sequential> make_model(std::uint64_t seed) {
  descent::manual_seed(seed);
  return std::make_shared<descent::nn::Sequential>(
      descent::nn::Linear({.in_features = 4, .out_features = 16}), descent::nn::Tanh(),
      descent::nn::Linear({.in_features = 16, .out_features = 8}), descent::nn::ReLU(),
      descent::nn::Linear({.in_features = 8, .out_features = 2}));
}

void train(descent::nn::Sequential& model, descent::optim::Optimizer& opt, const Tensor& x, const Tensor& y,
           int steps) {
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    descent::mse_loss(model(x), y).backward();
    opt.step();
  }
}

std::vector<float> flat_parameters(const descent::nn::Module& model) {
  std::vector<float> out;
  for (const Tensor& p : model.parameters()) {
    auto v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

TEST(Checkpoint, ResumedTrainingIsBitIdenticalToUninterrupted) {
  ScratchDir dir;
  descent::Generator gen(11);
  const Tensor x = descent::randn({32, 4}, gen);
  const Tensor y = descent::randn({32, 2}, gen);
  const descent::optim::AdamOptions options{.lr = 1e-2, .weight_decay = 1e-3, .amsgrad = true};

  auto uninterrupted = make_model(1);
  descent::optim::Adam opt_a(uninterrupted->parameters(), options);
  train(*uninterrupted, opt_a, x, y, 25);

  auto first = make_model(1);
  descent::optim::Adam opt_b(first->parameters(), options);
  train(*first, opt_b, x, y, 10);
  Checkpoint c;
  c.sections["model"] = map_of(first->state_dict());
  c.sections["optimizer"] = opt_b.state_dict();
  c.metadata["step"] = "10";
  save_checkpoint(dir / "last.safetensors", c);
  train(*first, opt_b, x, y, 2);  // the file is a snapshot: later steps change nothing in it

  auto resumed = make_model(99);  // different initial weights, overwritten by the checkpoint
  descent::optim::Adam opt_c(resumed->parameters(), {.lr = 0.5});  // options come from the checkpoint
  const Checkpoint loaded = load_checkpoint(dir / "last.safetensors");
  resumed->load_state_dict(descent::nn::StateDict(loaded.section("model")));
  opt_c.load_state_dict(loaded.section("optimizer"));
  EXPECT_EQ(loaded.meta("step"), "10");
  train(*resumed, opt_c, x, y, 15);

  EXPECT_EQ(flat_parameters(*resumed), flat_parameters(*uninterrupted))
      << "resumed training differs from uninterrupted";
}

}  // namespace
