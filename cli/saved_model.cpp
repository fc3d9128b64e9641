#include "saved_model.h"

#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "descent/core/error.h"
#include "descent/io/safetensors.h"
#include "descent/nn/dropout.h"

namespace descent::cli {
namespace {

using nlohmann::json;

// The scaler's few statistics as JSON (float64 printed exactly), so model.safetensors holds weights only.
std::string scaler_to_json(const data::Scaler& scaler) {
  json j = json::object();
  for (const auto& [key, t] : scaler.state_dict()) {
    Tensor c = t.contiguous();
    json entry;
    entry["dtype"] = std::string(dtype_name(c.dtype()));
    entry["shape"] = c.shape();
    json values = json::array();
    for (std::int64_t i = 0; i < c.numel(); ++i) {
      if (c.dtype() == kInt64) values.push_back(c.data_ptr<std::int64_t>()[i]);
      else if (c.dtype() == kFloat64) values.push_back(c.data_ptr<double>()[i]);
      else values.push_back(static_cast<double>(c.data_ptr<float>()[i]));
    }
    entry["values"] = values;
    j[key] = entry;
  }
  return j.dump();
}

data::Scaler scaler_from_json(const std::string& text, const std::string& origin) {
  std::map<std::string, Tensor> state;
  try {
    json j = json::parse(text);
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string dtype = it->at("dtype").get<std::string>();
      const auto shape = it->at("shape").get<std::vector<std::int64_t>>();
      if (dtype == "int64") {
        state[it.key()] = tensor_int64(it->at("values").get<std::vector<std::int64_t>>(), shape);
      } else {
        state[it.key()] = tensor(it->at("values").get<std::vector<double>>(), shape, dtype == "float64" ? kFloat64 : kFloat32);
      }
    }
  } catch (const json::exception& e) {
    throw IOError(fmt::format("{}: the stored scaling is damaged: {}", origin, e.what()));
  }
  data::Scaler scaler;
  scaler.load_state_dict(state);
  return scaler;
}

const std::string& required_meta(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& origin) {
  auto it = meta.find(key);
  if (it == meta.end())
    throw IOError(fmt::format("{}: not a model written by descent (its metadata has no '{}')", origin, key));
  return it->second;
}

// The mask generators of every Dropout and Dropout2d, in module order (checkpoint keys dropout.0, 1, ...).
std::vector<Generator*> dropout_generators(nn::Module& model) {
  std::vector<Generator*> out;
  for (auto& [name, m] : model.named_modules()) {
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) out.push_back(&d->generator());
    if (auto* d = dynamic_cast<nn::Dropout2d*>(m)) out.push_back(&d->generator());
  }
  return out;
}

Tensor words_of(const Generator& g) {
  const auto s = g.state();
  std::vector<std::int64_t> w(4);
  std::memcpy(w.data(), s.data(), sizeof(s));
  return tensor_int64(w, {4});
}

Generator::State state_of(const Tensor& t, const std::string& origin) {
  if (t.dtype() != kInt64 || t.numel() != 4) throw IOError(fmt::format("{}: a random generator state is damaged", origin));
  Tensor c = t.contiguous();
  Generator::State s;
  std::memcpy(s.data(), c.data_ptr<std::int64_t>(), sizeof(s));
  return s;
}

}  // namespace

std::map<std::string, std::string> model_metadata(const Config& config, const DataFormat& format) {
  return {{"config", config.json().dump()}, {"data", format.to_json()}, {"scaler", scaler_to_json(format.scaler)}};
}

void save_model_file(const std::filesystem::path& path, nn::Module& model, const Config& config, const DataFormat& format) {
  auto meta = model_metadata(config, format);
  meta["format"] = "pt";  // what safetensors' PyTorch loader expects
  io::save_safetensors(path, io::map_of(model.state_dict()), meta);
}

std::map<std::string, Tensor> generator_states(nn::Module& model) {
  std::map<std::string, Tensor> out{{"default", words_of(default_generator())}};
  std::size_t i = 0;
  for (Generator* g : dropout_generators(model)) out[fmt::format("dropout.{}", i++)] = words_of(*g);
  return out;
}

void set_generator_states(nn::Module& model, const std::map<std::string, Tensor>& states, const std::string& origin) {
  auto find = [&](const std::string& key) -> const Tensor& {
    auto it = states.find(key);
    if (it == states.end()) throw IOError(fmt::format("{}: the checkpoint has no state for random generator '{}'", origin, key));
    return it->second;
  };
  default_generator().set_state(state_of(find("default"), origin));
  std::size_t i = 0;
  for (Generator* g : dropout_generators(model)) g->set_state(state_of(find(fmt::format("dropout.{}", i++)), origin));
}

void save_training_checkpoint(const std::filesystem::path& path, const TrainingState& state, const Config& config,
                              const DataFormat& format) {
  io::Checkpoint c;
  c.sections["model"] = io::map_of(state.model->state_dict());
  c.sections["optimizer"] = state.optimizer->state_dict();
  if (state.scheduler) c.sections["scheduler"] = state.scheduler->state_dict();
  c.sections["trainer"] = state.trainer->state_dict();
  c.sections["rng"] = generator_states(*state.model);
  c.metadata = model_metadata(config, format);
  c.metadata["epoch"] = std::to_string(state.trainer->epochs_done());
  c.metadata["step"] = std::to_string(state.trainer->global_step());
  c.metadata["history"] = state.trainer->history().to_json();
  io::save_checkpoint(path, c);
}

void restore_training_checkpoint(const io::Checkpoint& checkpoint, const TrainingState& state, const std::string& origin) {
  try {
    state.model->load_state_dict(nn::StateDict(checkpoint.section("model")));
    state.optimizer->load_state_dict(checkpoint.section("optimizer"));
    if (state.scheduler) state.scheduler->load_state_dict(checkpoint.section("scheduler"));
    state.trainer->load_state_dict(checkpoint.section("trainer"));
    set_generator_states(*state.model, checkpoint.section("rng"), origin);
  } catch (const Error& e) {
    throw IOError(fmt::format("{}: cannot resume from this checkpoint: {}", origin, e.what()));
  }
}

LoadedModel load_model(const std::filesystem::path& given) {
  std::filesystem::path path = given;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(path / "model.safetensors")) path /= "model.safetensors";
    else if (std::filesystem::exists(path / "checkpoint-last.safetensors")) path /= "checkpoint-last.safetensors";
    else throw IOError(fmt::format("{}: no model.safetensors or checkpoint-last.safetensors in this folder", given.string()));
  }
  const std::string origin = path.string();
  io::SafetensorsContent content = io::load_safetensors(path);
  LoadedModel m{.path = path, .config = Config::from_resolved(required_meta(content.metadata, "config", origin), origin)};
  m.metadata = content.metadata;
  m.format = DataFormat::from_json(required_meta(content.metadata, "data", origin), origin);
  m.format.scaler = scaler_from_json(required_meta(content.metadata, "scaler", origin), origin);
  auto format_it = content.metadata.find("format");
  m.is_checkpoint = format_it != content.metadata.end() && format_it->second.starts_with("descent-checkpoint");

  std::map<std::string, Tensor> weights;
  if (m.is_checkpoint) {
    const std::string prefix = "model/";
    for (const auto& [k, v] : content.tensors)
      if (k.starts_with(prefix)) weights[k.substr(prefix.size())] = v;
    if (auto h = content.metadata.find("history"); h != content.metadata.end()) m.history = train::History::from_json(h->second);
  } else {
    weights = content.tensors;
  }
  m.built = build_model(m.config, m.format.spec);
  try {
    m.built.model->load_state_dict(nn::StateDict(weights));
  } catch (const Error& e) {
    throw IOError(fmt::format("{}: the weights do not fit the model its configuration describes: {}", origin, e.what()));
  }
  m.built.model->eval();
  return m;
}

}  // namespace descent::cli
