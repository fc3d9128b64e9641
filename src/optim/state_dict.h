#pragma once
// State-dict plumbing shared by the optimizers and the schedules: StateDictReader reads a flat
// std::map<std::string, Tensor> while recording which keys were used and which were missing, so
// that a load can be checked completely before anything changes; the encode/decode helpers turn
// option members (double, bool, int64, optional int64, pair, string) into tensors and back, and
// into OptionValue and back.

#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "descent/core/tensor.h"
#include "descent/optim/optimizer.h"
#include "internal/check.h"

namespace descent::optim {

class StateDictReader {
 public:
  /// `owner` names the object in messages: "SGD.load_state_dict", "StepLR.load_state_dict".
  StateDictReader(const std::map<std::string, Tensor>& dict, std::string owner);

  const std::string& owner() const { return owner_; }

  /// The tensor under key, or null; either way the key counts as expected.
  const Tensor* find(const std::string& key);
  /// The tensor under key; null (and recorded as missing) when absent.
  const Tensor* require(const std::string& key);
  /// Whether any key starts with prefix.
  bool has_prefix(const std::string& prefix) const;

  /// A 0-d tensor's value; `fallback` when missing.
  double scalar(const std::string& key, double fallback);
  /// A 1-D tensor's values; `size` (if given) is the required length.
  std::vector<double> vector(const std::string& key, std::optional<std::int64_t> size,
                             const std::vector<double>& fallback);
  /// A copy of the tensor under key, which must have `shape`, converted to `dtype`; `fallback`
  /// when missing.
  Tensor tensor(const std::string& key, const Shape& shape, DType dtype, const Tensor& fallback);
  /// A string stored as an int64 byte tensor.
  std::string string(const std::string& key, const std::string& fallback);

  /// Throws ValueError naming every missing and unexpected key.
  void finish() const;

 private:
  const std::map<std::string, Tensor>& dict_;
  std::string owner_;
  std::set<std::string> used_;
  std::vector<std::string> missing_;
};

// --- option members <-> tensors and OptionValue ----------------------------------------------------

Tensor encode_scalar(double value);
Tensor encode_vector(const std::vector<double>& values);
Tensor encode_string(const std::string& value);

template <typename M>
Tensor encode_option(const M& m) {
  if constexpr (std::is_same_v<M, std::pair<double, double>>) {
    return encode_vector({m.first, m.second});
  } else if constexpr (std::is_same_v<M, std::string>) {
    return encode_string(m);
  } else if constexpr (std::is_same_v<M, std::optional<std::int64_t>>) {
    return encode_scalar(m ? static_cast<double>(*m) : std::nan(""));
  } else {
    return encode_scalar(static_cast<double>(m));
  }
}

template <typename M>
void decode_option(StateDictReader& reader, const std::string& key, M& m) {
  if constexpr (std::is_same_v<M, std::pair<double, double>>) {
    const std::vector<double> v = reader.vector(key, 2, {m.first, m.second});
    m = {v[0], v[1]};
  } else if constexpr (std::is_same_v<M, std::string>) {
    m = reader.string(key, m);
  } else if constexpr (std::is_same_v<M, std::optional<std::int64_t>>) {
    const double v = reader.scalar(key, m ? static_cast<double>(*m) : std::nan(""));
    m = std::isnan(v) ? std::nullopt : std::optional<std::int64_t>(static_cast<std::int64_t>(std::llround(v)));
  } else if constexpr (std::is_same_v<M, bool>) {
    m = reader.scalar(key, m ? 1.0 : 0.0) != 0.0;
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    m = static_cast<std::int64_t>(std::llround(reader.scalar(key, static_cast<double>(m))));
  } else {
    m = reader.scalar(key, m);
  }
}

template <typename M>
OptionValue to_option_value(const M& m) {
  if constexpr (std::is_same_v<M, std::optional<std::int64_t>>) {
    return m ? OptionValue(*m) : OptionValue(std::int64_t{-1});
  } else {
    return OptionValue(m);
  }
}

std::string_view option_value_kind(const OptionValue& v);

/// Assigns v to the member, converting int64 to double; throws ValueError (naming `owner` and the
/// option) for a value of another kind.
template <typename M>
void from_option_value(M& m, const OptionValue& v, std::string_view owner, std::string_view name) {
  if constexpr (std::is_same_v<M, double>) {
    if (const double* d = std::get_if<double>(&v)) {
      m = *d;
      return;
    }
    if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) {
      m = static_cast<double>(*i);
      return;
    }
    throw ValueError(fmt::format("{}: option '{}' expects a number, got {}", owner, name, option_value_kind(v)));
  } else if constexpr (std::is_same_v<M, std::int64_t> || std::is_same_v<M, std::optional<std::int64_t>>) {
    if (const std::int64_t* i = std::get_if<std::int64_t>(&v)) {
      m = *i;
      return;
    }
    throw ValueError(fmt::format("{}: option '{}' expects an integer, got {}", owner, name, option_value_kind(v)));
  } else {
    if (const M* x = std::get_if<M>(&v)) {
      m = *x;
      return;
    }
    throw ValueError(fmt::format("{}: option '{}' expects {}, got {}", owner, name,
                                 option_value_kind(OptionValue(M{})), option_value_kind(v)));
  }
}

/// Visits the option member called `name`; returns false if there is none.
template <typename Options, typename Self, typename F>
bool with_option(Self& options, std::string_view name, F&& f) {
  bool found = false;
  Options::fields(options, [&](const char* field, auto& member) {
    if (!found && name == field) {
      found = true;
      f(member);
    }
  });
  return found;
}

/// The names of Options' fields, for messages.
template <typename Options>
std::string option_names() {
  std::string out;
  Options o{};
  Options::fields(o, [&](const char* field, auto&) {
    if (!out.empty()) out += ", ";
    out += field;
  });
  return out;
}

}  // namespace descent::optim
