#pragma once
// Definitions of BasicOptimizer's members. Each optimizer's .cpp includes this and instantiates
// the template explicitly for its own Options and State, so users never see these definitions.

#include <fmt/format.h>

#include <map>
#include <string>
#include <type_traits>

#include "descent/optim/optimizer.h"
#include "optim/state_dict.h"

namespace descent::optim {

template <typename D, typename O, typename S>
BasicOptimizer<D, O, S>::BasicOptimizer(std::string name, std::vector<ParamGroup> groups, const O& defaults)
    : Optimizer(std::move(name), std::move(groups)) {
  options_.assign(groups_.size(), defaults);
  state_.resize(groups_.size());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (const auto& [key, value] : overrides(g)) {
      const bool known = with_option<O>(options_[g], key, [&](auto& member) {
        from_option_value(member, value, name_, key);
      });
      DESCENT_CHECK_VALUE(known, "{}: parameter group {} sets an unknown option '{}' (options: {})", name_, g, key,
                          option_names<O>());
    }
    D::validate(options_[g]);
    state_[g].resize(groups_[g].size());
  }
}

template <typename D, typename O, typename S>
const O& BasicOptimizer<D, O, S>::options(std::size_t group) const {
  DESCENT_CHECK_INDEX(group < options_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      options_.size());
  return options_[group];
}

template <typename D, typename O, typename S>
void BasicOptimizer<D, O, S>::set_options(std::size_t group, const O& options) {
  DESCENT_CHECK_INDEX(group < options_.size(), "{}: parameter group {} out of range ({} groups)", name_, group,
                      options_.size());
  D::validate(options);
  options_[group] = options;
}

template <typename D, typename O, typename S>
const std::optional<S>& BasicOptimizer<D, O, S>::state(std::size_t group, std::size_t index) const {
  DESCENT_CHECK_INDEX(group < state_.size() && index < state_[group].size(),
                      "{}: no parameter {} in group {} ({} groups)", name_, index, group, state_.size());
  return state_[group][index];
}

template <typename D, typename O, typename S>
S& BasicOptimizer<D, O, S>::state_for(std::size_t group, std::size_t index, bool* fresh) {
  std::optional<S>& st = state_[group][index];
  if (fresh != nullptr) *fresh = !st.has_value();
  if (!st) st = D::init_state(groups_[group][index], options_[group]);
  return *st;
}

template <typename D, typename O, typename S>
void BasicOptimizer<D, O, S>::init_all_state() {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (std::size_t i = 0; i < groups_[g].size(); ++i) state_for(g, i);
  }
}

template <typename D, typename O, typename S>
std::size_t BasicOptimizer<D, O, S>::options_size() const {
  return options_.size();
}

template <typename D, typename O, typename S>
OptionValue BasicOptimizer<D, O, S>::get_option(std::size_t group, std::string_view name) const {
  OptionValue out;
  const bool known = with_option<O>(options_[group], name, [&](const auto& member) { out = to_option_value(member); });
  DESCENT_CHECK_VALUE(known, "{}: unknown option '{}' (options: {})", name_, name, option_names<O>());
  return out;
}

template <typename D, typename O, typename S>
void BasicOptimizer<D, O, S>::put_option(std::size_t group, std::string_view name, const OptionValue& value) {
  O updated = options_[group];
  const bool known = with_option<O>(updated, name, [&](auto& member) { from_option_value(member, value, name_, name); });
  DESCENT_CHECK_VALUE(known, "{}: unknown option '{}' (options: {})", name_, name, option_names<O>());
  D::validate(updated);
  options_[group] = updated;
}

template <typename D, typename O, typename S>
bool BasicOptimizer<D, O, S>::knows_option(std::string_view name) const {
  O o = options_.front();
  return with_option<O>(o, name, [](auto&) {});
}

template <typename D, typename O, typename S>
void BasicOptimizer<D, O, S>::save(std::map<std::string, Tensor>& out) const {
  std::size_t k = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string group_prefix = fmt::format("param_groups.{}.", g);
    O::fields(options_[g], [&](const char* field, const auto& member) {
      out[group_prefix + field] = encode_option(member);
    });
    std::vector<std::int64_t> indices;
    for (std::size_t i = 0; i < groups_[g].size(); ++i, ++k) {
      indices.push_back(static_cast<std::int64_t>(k));
      const std::optional<S>& st = state_[g][i];
      if (!st) continue;
      const std::string prefix = fmt::format("state.{}.", k);
      S::fields(*st, [&](const char* field, const auto& member) {
        if constexpr (std::is_same_v<std::decay_t<decltype(member)>, Tensor>) {
          if (member.defined()) out[prefix + field] = member.clone();
        } else {
          out[prefix + field] = encode_scalar(member);
        }
      });
    }
    out[group_prefix + "params"] = tensor_int64(indices, {static_cast<std::int64_t>(indices.size())});
  }
}

template <typename D, typename O, typename S>
std::function<void()> BasicOptimizer<D, O, S>::prepare_load(StateDictReader& reader) {
  std::vector<O> options = options_;
  std::vector<std::vector<std::optional<S>>> state(groups_.size());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string group_prefix = fmt::format("param_groups.{}.", g);
    O::fields(options[g], [&](const char* field, auto& member) { decode_option(reader, group_prefix + field, member); });
    if (const Tensor* saved = reader.require(group_prefix + "params")) {
      std::vector<std::int64_t> expected;
      for (std::size_t i = 0; i < groups_[g].size(); ++i) expected.push_back(static_cast<std::int64_t>(flat_index(g, i)));
      const bool ok = saved->dtype() == kInt64 && saved->dim() == 1 && saved->to_vector<std::int64_t>() == expected;
      DESCENT_CHECK_VALUE(ok,
                          "{}: {}params does not match this optimizer's group {}: saved {}, expected the {} "
                          "parameters {}",
                          reader.owner(), group_prefix, g, saved->to_string(), expected.size(), expected);
    }
    D::validate(options[g]);
  }
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    state[g].resize(groups_[g].size());
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      const std::string prefix = fmt::format("state.{}.", flat_index(g, i));
      if (!reader.has_prefix(prefix)) continue;  // no state yet for this parameter
      const Tensor& param = groups_[g][i];
      S st = D::init_state(param, options[g]);
      S::fields(st, [&](const char* field, auto& member) {
        if constexpr (std::is_same_v<std::decay_t<decltype(member)>, Tensor>) {
          if (member.defined()) member = reader.tensor(prefix + field, param.shape(), param.dtype(), member);
        } else {
          member = reader.scalar(prefix + field, member);
        }
      });
      state[g][i] = std::move(st);
    }
  }
  return [this, options = std::move(options), state = std::move(state)]() mutable {
    options_ = std::move(options);
    state_ = std::move(state);
  };
}

}  // namespace descent::optim
