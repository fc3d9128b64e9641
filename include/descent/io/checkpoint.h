#pragma once
// Checkpoints: everything needed to continue a run exactly as if it had never stopped, in one
// safetensors file. Tensors are grouped in named sections ("model", "optimizer", "scheduler",
// "scaler", "rng", ...) stored under "<section>/<key>" (model keys contain dots, never '/'), and
// strings ("config", "epoch", "history", ...) go in the file's metadata.
//
//   Checkpoint c;
//   c.sections["model"] = map_of(model.state_dict());
//   c.sections["optimizer"] = optimizer.state_dict();
//   c.metadata["epoch"] = "3";
//   save_checkpoint(dir / "last.safetensors", c);       // atomic

#include <filesystem>
#include <map>
#include <string>

#include "descent/core/tensor.h"
#include "descent/nn/module.h"

namespace descent::io {

struct Checkpoint {
  std::map<std::string, std::map<std::string, Tensor>> sections;
  std::map<std::string, std::string> metadata;

  /// The section, or IOError naming the checkpoint's path-less description when absent.
  const std::map<std::string, Tensor>& section(const std::string& name) const;
  /// The metadata value, or IOError when absent.
  const std::string& meta(const std::string& key) const;
};

/// Saves atomically (metadata "format" = "descent-checkpoint-1" and "sections" = a JSON list of the
/// section names, so that empty sections survive, are added; load_checkpoint removes both again).
/// ValueError for an empty section name or one containing '/', and for user metadata under the
/// reserved keys "format" or "sections".
void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);
/// Loads a checkpoint; IOError naming the file when it is not a safetensors file or not a descent
/// checkpoint (no "format" metadata).
Checkpoint load_checkpoint(const std::filesystem::path& path);

/// A module's state dict as a sorted map (what the sections and save_safetensors take).
std::map<std::string, Tensor> map_of(const nn::StateDict& state);

}  // namespace descent::io
