#pragma once
// What a run leaves behind and how it is read back. Two kinds of safetensors files:
//   checkpoint-last / checkpoint-best.safetensors: everything to resume a run exactly (sections
//     model, optimizer, scheduler, trainer, rng);
//   model.safetensors: the final weights alone under PyTorch's state-dict keys ("0.weight"), so
//     torch's load_state_dict takes them as they are.
// Both carry, as metadata, the resolved configuration ("config"), the data description ("data") and
// the fitted scaling ("scaler", JSON): enough to rebuild the model and read new data as in training.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "data_source.h"
#include "descent/io/checkpoint.h"
#include "descent/optim/optimizer.h"
#include "descent/optim/schedule.h"
#include "descent/train/trainer.h"
#include "model_builder.h"

namespace descent::cli {

/// A model read back for eval, predict and info.
struct LoadedModel {
  std::filesystem::path path;
  Config config;
  DataFormat format;
  BuiltModel built;
  std::optional<train::History> history;  // checkpoints only
  bool is_checkpoint = false;
  std::map<std::string, std::string> metadata;
};

/// Reads a model from a .safetensors file (checkpoint or model file) or a run folder (its
/// model.safetensors, else checkpoint-last.safetensors). IOError naming the path otherwise.
LoadedModel load_model(const std::filesystem::path& path);

/// The metadata both kinds of file carry.
std::map<std::string, std::string> model_metadata(const Config& config, const DataFormat& format);

/// Writes model.safetensors (weights + metadata), atomically.
void save_model_file(const std::filesystem::path& path, nn::Module& model, const Config& config, const DataFormat& format);

/// Everything a resumable checkpoint holds.
struct TrainingState {
  nn::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::Scheduler* scheduler = nullptr;  // may be null
  train::Trainer* trainer = nullptr;
};

void save_training_checkpoint(const std::filesystem::path& path, const TrainingState& state, const Config& config,
                              const DataFormat& format);
/// Restores model, optimizer, scheduler, trainer and random generators from a checkpoint written by
/// save_training_checkpoint for the same configuration.
void restore_training_checkpoint(const io::Checkpoint& checkpoint, const TrainingState& state, const std::string& origin);

/// The random generators a run draws from: the default one and each Dropout or Dropout2d layer's, as int64 words.
std::map<std::string, Tensor> generator_states(nn::Module& model);
void set_generator_states(nn::Module& model, const std::map<std::string, Tensor>& states, const std::string& origin);

}  // namespace descent::cli
