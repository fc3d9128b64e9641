#include "descent/optim/optimizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <unordered_set>

#include "descent/autograd/grad_mode.h"
#include "descent/autograd/node.h"
#include "internal/check.h"
#include "kernels/elementwise.h"
#include "optim/state_dict.h"

namespace descent::optim {

// --- StateDictReader --------------------------------------------------------------------------------

StateDictReader::StateDictReader(const std::map<std::string, Tensor>& dict, std::string owner)
    : dict_(dict), owner_(std::move(owner)) {}

const Tensor* StateDictReader::find(const std::string& key) {
  used_.insert(key);
  const auto it = dict_.find(key);
  if (it == dict_.end()) return nullptr;
  DESCENT_CHECK_VALUE(it->second.defined(), "{}: \"{}\" is an undefined tensor", owner_, key);
  return &it->second;
}

const Tensor* StateDictReader::require(const std::string& key) {
  const Tensor* t = find(key);
  if (t == nullptr) missing_.push_back(key);
  return t;
}

bool StateDictReader::has_prefix(const std::string& prefix) const {
  const auto it = dict_.lower_bound(prefix);
  return it != dict_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

double StateDictReader::scalar(const std::string& key, double fallback) {
  const Tensor* t = require(key);
  if (t == nullptr) return fallback;
  DESCENT_CHECK_SHAPE(t->dim() == 0 && is_floating(t->dtype()),
                      "{}: \"{}\" has shape {} and dtype {}, expected a 0-dimensional floating tensor (shape [])",
                      owner_, key, t->shape(), dtype_name(t->dtype()));
  return t->item();
}

std::vector<double> StateDictReader::vector(const std::string& key, std::optional<std::int64_t> size,
                                            const std::vector<double>& fallback) {
  const Tensor* t = require(key);
  if (t == nullptr) return fallback;
  const bool ok = t->dim() == 1 && is_floating(t->dtype()) && (!size || t->size(0) == *size);
  if (!ok) {
    const std::string expected = size ? fmt::format("[{}]", *size) : std::string("[n]");
    throw ShapeError(fmt::format("{}: \"{}\" has shape {} and dtype {}, expected a floating tensor of shape {}", owner_,
                                 key, t->shape(), dtype_name(t->dtype()), expected));
  }
  return t->to_vector<double>();
}

Tensor StateDictReader::tensor(const std::string& key, const Shape& shape, DType dtype, const Tensor& fallback) {
  const Tensor* t = require(key);
  if (t == nullptr) return fallback;
  DESCENT_CHECK_SHAPE(t->shape() == shape, "{}: \"{}\" has shape {}, expected {}", owner_, key, t->shape(), shape);
  DESCENT_CHECK_DTYPE(is_floating(t->dtype()), "{}: \"{}\" has dtype {}, expected a floating dtype", owner_, key,
                      dtype_name(t->dtype()));
  Tensor out = empty(shape, dtype);
  kernels::copy_into(out, *t);
  return out;
}

std::string StateDictReader::string(const std::string& key, const std::string& fallback) {
  const Tensor* t = require(key);
  if (t == nullptr) return fallback;
  DESCENT_CHECK_SHAPE(t->dim() == 1 && t->dtype() == kInt64,
                      "{}: \"{}\" has shape {} and dtype {}, expected a 1-D int64 tensor (the bytes of a string)",
                      owner_, key, t->shape(), dtype_name(t->dtype()));
  std::string out;
  for (std::int64_t c : t->to_vector<std::int64_t>()) out.push_back(static_cast<char>(c));
  return out;
}

void StateDictReader::finish() const {
  std::vector<std::string> unexpected;
  for (const auto& [key, value] : dict_) {
    if (!used_.count(key)) unexpected.push_back(key);
  }
  if (missing_.empty() && unexpected.empty()) return;
  auto quoted = [](const std::vector<std::string>& keys) {
    std::string out;
    const std::size_t shown = std::min<std::size_t>(keys.size(), 8);
    for (std::size_t i = 0; i < shown; ++i) out += (i ? ", \"" : "\"") + keys[i] + "\"";
    if (keys.size() > shown) out += fmt::format(" and {} more", keys.size() - shown);
    return out;
  };
  std::string message = owner_ + ":";
  if (!missing_.empty()) message += " missing key(s) " + quoted(missing_);
  if (!unexpected.empty()) message += std::string(missing_.empty() ? "" : ";") + " unexpected key(s) " + quoted(unexpected);
  throw ValueError(message);
}

Tensor encode_scalar(double value) { return scalar_tensor(value, kFloat64); }

Tensor encode_vector(const std::vector<double>& values) {
  return tensor(values, {static_cast<std::int64_t>(values.size())}, kFloat64);
}

Tensor encode_string(const std::string& value) {
  std::vector<std::int64_t> bytes(value.begin(), value.end());
  return tensor_int64(bytes, {static_cast<std::int64_t>(bytes.size())});
}

std::string_view option_value_kind(const OptionValue& v) {
  switch (v.index()) {
    case 0: return "a number";
    case 1: return "a bool";
    case 2: return "an integer";
    case 3: return "a pair of numbers";
    default: return "a string";
  }
}

// --- Optimizer ------------------------------------------------------------------------------------

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups) : name_(std::move(name)) {
  DESCENT_CHECK_VALUE(!groups.empty() && !(groups.size() == 1 && groups[0].params.empty()),
                      "{}: got an empty parameter list", name_);
  std::unordered_set<const TensorImpl*> seen;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    DESCENT_CHECK_VALUE(!groups[g].params.empty(), "{}: parameter group {} is empty", name_, g);
    for (std::size_t i = 0; i < groups[g].params.size(); ++i) {
      const Tensor& p = groups[g].params[i];
      DESCENT_CHECK_VALUE(p.defined(), "{}: parameter {} of group {} is an undefined tensor", name_, i, g);
      DESCENT_CHECK_DTYPE(is_floating(p.dtype()),
                          "{}: parameter {} of group {} has dtype {}; only floating tensors can be optimized", name_, i,
                          g, dtype_name(p.dtype()));
      DESCENT_CHECK_VALUE(p.requires_grad(),
                          "{}: parameter {} of group {} (shape {}) does not require grad; call requires_grad_() on it",
                          name_, i, g, p.shape());
      DESCENT_CHECK_VALUE(p.is_leaf(), "{}: parameter {} of group {} is not a leaf tensor (it was produced by {})",
                          name_, i, g, p.grad_fn()->name());
      DESCENT_CHECK_VALUE(seen.insert(p.impl()).second,
                          "{}: parameter {} of group {} appears more than once among the parameters", name_, i, g);
    }
    groups_.push_back(std::move(groups[g].params));
    overrides_.push_back(std::move(groups[g].options));
  }
  initial_lrs_.resize(groups_.size());
}

void Optimizer::step() {
  NoGradGuard no_grad;
  update();
}

Tensor Optimizer::step(const Closure& closure) {
  Tensor loss;
  {
    const bool previous = GradMode::is_enabled();
    GradMode::set_enabled(true);
    try {
      loss = closure();
    } catch (...) {
      GradMode::set_enabled(previous);
      throw;
    }
    GradMode::set_enabled(previous);
  }
  step();
  return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const auto& group : groups_) {
    for (const Tensor& p : group) {
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        p.set_grad(Tensor());
      } else {
        kernels::copy_into(grad, scalar_tensor(0.0, grad.dtype()));
      }
    }
  }
}

const std::vector<Tensor>& Optimizer::params(std::size_t group) const {
  DESCENT_CHECK_INDEX(group < groups_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      groups_.size());
  return groups_[group];
}

std::vector<Tensor> Optimizer::all_params() const {
  std::vector<Tensor> out;
  for (const auto& group : groups_) out.insert(out.end(), group.begin(), group.end());
  return out;
}

std::size_t Optimizer::flat_index(std::size_t group, std::size_t index) const {
  std::size_t k = index;
  for (std::size_t g = 0; g < group; ++g) k += groups_[g].size();
  return k;
}

double Optimizer::lr(std::size_t group) const {
  const OptionValue v = option(group, "lr");
  return std::get<double>(v);
}

void Optimizer::set_lr(std::size_t group, double lr) { set_option(group, "lr", lr); }

void Optimizer::set_lr(double lr) {
  for (std::size_t g = 0; g < groups_.size(); ++g) set_lr(g, lr);
}

bool Optimizer::has_option(std::string_view name) const { return knows_option(name); }

OptionValue Optimizer::option(std::size_t group, std::string_view name) const {
  DESCENT_CHECK_INDEX(group < groups_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      groups_.size());
  return get_option(group, name);
}

void Optimizer::set_option(std::size_t group, std::string_view name, const OptionValue& value) {
  DESCENT_CHECK_INDEX(group < groups_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      groups_.size());
  put_option(group, name, value);
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out;
  save(out);
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  StateDictReader reader(state, name_ + ".load_state_dict");
  std::function<void()> commit = prepare_load(reader);
  reader.finish();
  commit();
}

std::optional<double> Optimizer::initial_lr(std::size_t group) const {
  DESCENT_CHECK_INDEX(group < groups_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      groups_.size());
  return initial_lrs_[group];
}

void Optimizer::set_initial_lr(std::size_t group, double lr) {
  DESCENT_CHECK_INDEX(group < groups_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      groups_.size());
  initial_lrs_[group] = lr;
}

}  // namespace descent::optim
