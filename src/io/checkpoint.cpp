// Checkpoints on top of safetensors: sections become key prefixes "<section>/", so a checkpoint is
// an ordinary safetensors file that any reader can open, and its "model/" tensors can be pulled out
// for inference without descent.
#include "descent/io/checkpoint.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "descent/io/safetensors.h"
#include "internal/check.h"

namespace descent::io {
namespace {

constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormat = "descent-checkpoint-1";
// The section names, so that an empty section (an optimizer without state yet) survives a round trip.
constexpr std::string_view kSectionsKey = "sections";

template <typename Map>
std::string list_keys(const Map& map) {
  std::string out;
  for (const auto& [key, value] : map) out += (out.empty() ? "" : ", ") + key;
  return out.empty() ? "none" : out;
}

}  // namespace

const std::map<std::string, Tensor>& Checkpoint::section(const std::string& name) const {
  auto it = sections.find(name);
  if (it == sections.end()) {
    throw IOError(fmt::format("checkpoint: no section '{}' (sections: {})", name, list_keys(sections)));
  }
  return it->second;
}

const std::string& Checkpoint::meta(const std::string& key) const {
  auto it = metadata.find(key);
  if (it == metadata.end()) {
    throw IOError(fmt::format("checkpoint: no metadata '{}' (keys: {})", key, list_keys(metadata)));
  }
  return it->second;
}

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  std::map<std::string, Tensor> tensors;
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [section, entries] : checkpoint.sections) {
    DESCENT_CHECK_VALUE(!section.empty() && section.find('/') == std::string::npos,
                        "save_checkpoint: {}: section name '{}' must be non-empty and contain no '/'", path.string(),
                        section);
    names.push_back(section);
    for (const auto& [key, tensor] : entries) tensors.emplace(section + "/" + key, tensor);
  }
  std::map<std::string, std::string> metadata = checkpoint.metadata;
  for (std::string_view reserved : {kFormatKey, kSectionsKey}) {
    DESCENT_CHECK_VALUE(!metadata.contains(std::string(reserved)),
                        "save_checkpoint: {}: metadata key '{}' is reserved for the checkpoint format", path.string(),
                        reserved);
  }
  metadata.emplace(kFormatKey, kFormat);
  metadata.emplace(kSectionsKey, names.dump());
  save_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  SafetensorsContent content = load_safetensors(path);
  auto fail = [&](std::string_view what) { return IOError(fmt::format("{}: {}", path.string(), what)); };

  auto format = content.metadata.find(std::string(kFormatKey));
  if (format == content.metadata.end()) throw fail("not a descent checkpoint (no \"format\" metadata)");
  if (format->second != kFormat) {
    throw fail(fmt::format("not a descent checkpoint: format '{}' (expected '{}')", format->second, kFormat));
  }
  content.metadata.erase(format);

  Checkpoint checkpoint;
  if (auto names = content.metadata.find(std::string(kSectionsKey)); names != content.metadata.end()) {
    nlohmann::json list = nlohmann::json::parse(names->second, nullptr, /*allow_exceptions=*/false);
    if (!list.is_array())
      throw fail(fmt::format("metadata 'sections' is not a JSON array of names: {}", names->second));
    for (const auto& name : list) {
      if (!name.is_string())
        throw fail(fmt::format("metadata 'sections' is not a JSON array of names: {}", names->second));
      checkpoint.sections[name.get<std::string>()];
    }
    content.metadata.erase(names);
  }
  for (auto& [key, tensor] : content.tensors) {
    const auto slash = key.find('/');
    if (slash == std::string::npos || slash == 0) {
      throw fail(fmt::format("tensor '{}' belongs to no section (checkpoint keys are \"<section>/<key>\")", key));
    }
    checkpoint.sections[key.substr(0, slash)].emplace(key.substr(slash + 1), std::move(tensor));
  }
  checkpoint.metadata = std::move(content.metadata);
  return checkpoint;
}

std::map<std::string, Tensor> map_of(const nn::StateDict& state) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, tensor] : state) out.emplace(key, tensor);
  return out;
}

}  // namespace descent::io
