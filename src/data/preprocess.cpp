// Scaler: statistics in float64 over the rows of the [N, F] view (or over every value), applied
// elementwise as (x - shift) / divisor in float64 and rounded once to the tensor's dtype.
#include "descent/data/preprocess.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "internal/check.h"
#include "kernels/dispatch.h"
#include "kernels/parallel.h"
#include "optim/state_dict.h"

namespace descent::data {
namespace {

constexpr ScalerKind kKinds[] = {ScalerKind::None, ScalerKind::Standardize, ScalerKind::MinMax, ScalerKind::Scale};

bool has_statistics(ScalerKind kind) { return kind == ScalerKind::Standardize || kind == ScalerKind::MinMax; }

// Values per example: the product of every dimension after the first (1 for a 1-D tensor).
std::int64_t row_size(const Shape& shape) {
  std::int64_t f = 1;
  for (std::size_t d = 1; d < shape.size(); ++d) f *= shape[d];
  return f;
}

Tensor vector_tensor(const std::vector<double>& v) {
  return tensor(v, {static_cast<std::int64_t>(v.size())}, kFloat64);
}

// out[r, j] = f(x[r, j], j) over the contiguous [rows, width] view, for float32 and float64.
// out = f applied to the contiguous in, column by column; out may be in itself.
template <typename F>
void map_columns_into(const Tensor& in, const Tensor& out, std::int64_t width, std::string_view op, F f) {
  kernels::dispatch_floating(in.dtype(), op, [&]<typename T>() {
    const T* src = in.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    const std::int64_t rows = in.numel() / width;
    kernels::parallel_for(rows, in.numel() > (1 << 16), [&](std::int64_t r) {
      for (std::int64_t j = 0; j < width; ++j) {
        dst[r * width + j] = static_cast<T>(f(static_cast<double>(src[r * width + j]), j));
      }
    });
  });
}

template <typename F>
Tensor map_columns(const Tensor& x, std::int64_t width, std::string_view op, F f) {
  const Tensor in = x.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  map_columns_into(in, out, width, op, f);
  return out;
}

// Per-column statistics of the contiguous [rows, width] view, in float64.
struct Statistics {
  std::vector<double> mean, m2, min, max;  // m2: the sum of squared deviations from the mean
};

Statistics column_statistics(const Tensor& x, std::int64_t width) {
  const Tensor in = x.contiguous();
  const auto f = static_cast<std::size_t>(width);
  const std::int64_t rows = in.numel() / width;
  Statistics s{std::vector<double>(f, 0.0), std::vector<double>(f, 0.0),
               std::vector<double>(f, std::numeric_limits<double>::infinity()),
               std::vector<double>(f, -std::numeric_limits<double>::infinity())};
  kernels::dispatch_all(in.dtype(), [&]<typename T>() {
    const T* data = in.data_ptr<T>();
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < f; ++j) {
        const auto v = static_cast<double>(data[r * width + static_cast<std::int64_t>(j)]);
        s.mean[j] += v;
        s.min[j] = std::min(s.min[j], v);
        s.max[j] = std::max(s.max[j], v);
      }
    }
    for (double& m : s.mean) m /= static_cast<double>(rows);
    // A second pass over the deviations stays accurate where sum-of-squares formulas cancel.
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < f; ++j) {
        const double d = static_cast<double>(data[r * width + static_cast<std::int64_t>(j)]) - s.mean[j];
        s.m2[j] += d * d;
      }
    }
  });
  return s;
}

}  // namespace

std::string_view to_string(ScalerKind kind) {
  switch (kind) {
    case ScalerKind::None:
      return "none";
    case ScalerKind::Standardize:
      return "standardize";
    case ScalerKind::MinMax:
      return "minmax";
    case ScalerKind::Scale:
      return "scale";
  }
  return "?";
}

ScalerKind parse_scaler_kind(std::string_view name) {
  for (ScalerKind kind : kKinds) {
    if (to_string(kind) == name) return kind;
  }
  throw ValueError(fmt::format("unknown scaler '{}'; the scalers are none, standardize, minmax, scale", name));
}

Scaler::Scaler(ScalerKind kind, bool per_feature, double scale)
    : kind_(kind), per_feature_(per_feature), scale_(scale) {
  DESCENT_CHECK_VALUE(std::isfinite(scale) && scale != 0.0, "Scaler: scale must be finite and non-zero, got {}", scale);
}

bool Scaler::fitted() const { return !has_statistics(kind_) || shift_.defined(); }

void Scaler::fit(const Tensor& x) {
  if (!has_statistics(kind_)) return;
  DESCENT_CHECK_VALUE(x.defined() && x.dim() >= 1 && x.numel() > 0, "Scaler.fit: no data to fit (shape {})",
                      x.defined() ? x.shape() : Shape{});
  const std::int64_t width = per_feature_ ? row_size(x.shape()) : 1;
  const Statistics stats = column_statistics(x, width);
  const auto rows = static_cast<double>(x.numel() / width);
  const auto f = static_cast<std::size_t>(width);
  std::vector<double> shift(f), divisor(f);
  for (std::size_t j = 0; j < f; ++j) {
    DESCENT_CHECK_VALUE(std::isfinite(stats.mean[j]), "Scaler.fit: feature {} holds NaN or infinite values", j);
    // A constant feature is recognised exactly (min == max), not by a std made of rounding noise.
    const bool constant = stats.min[j] == stats.max[j];
    if (kind_ == ScalerKind::Standardize) {
      shift[j] = stats.mean[j];
      divisor[j] = constant ? 1.0 : std::sqrt(stats.m2[j] / rows);
    } else {
      shift[j] = stats.min[j];
      divisor[j] = constant ? 1.0 : stats.max[j] - stats.min[j];
    }
  }
  if (kind_ == ScalerKind::MinMax) max_ = vector_tensor(stats.max);
  shift_ = vector_tensor(shift);
  divisor_ = vector_tensor(divisor);
}

Tensor Scaler::transform(const Tensor& x) const {
  DESCENT_CHECK_VALUE(x.defined(), "Scaler.transform: the tensor is undefined");
  if (kind_ == ScalerKind::None) return x;
  const Tensor in = x.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  scale_into(in, out, "Scaler.transform");
  return out;
}

const Tensor& Scaler::transform_(const Tensor& x) const {
  DESCENT_CHECK_VALUE(x.defined(), "Scaler.transform_: the tensor is undefined");
  DESCENT_CHECK_VALUE(x.is_contiguous(), "Scaler.transform_: x (shape {}) must be contiguous to be scaled in place",
                      x.shape());
  DESCENT_CHECK_VALUE(!x.requires_grad(), "Scaler.transform_: x requires grad; scale a detached tensor in place");
  if (kind_ != ScalerKind::None) scale_into(x, x, "Scaler.transform_");
  return x;
}

void Scaler::scale_into(const Tensor& in, const Tensor& out, std::string_view op) const {
  if (kind_ == ScalerKind::Scale) {
    const double scale = scale_;
    map_columns_into(in, out, 1, op, [scale](double v, std::int64_t) { return v / scale; });
    return;
  }
  DESCENT_CHECK_VALUE(fitted(), "{}: the {} scaler is not fitted; call fit on the training data first", op,
                      to_string(kind_));
  const std::int64_t width = shift_.numel();
  if (per_feature_) {
    DESCENT_CHECK_SHAPE(in.dim() >= 1 && row_size(in.shape()) == width,
                        "{}: x has shape {} ({} features per row), the scaler was fitted on {}", op, in.shape(),
                        in.dim() >= 1 ? row_size(in.shape()) : 0, width);
  }
  const double* shift = shift_.data_ptr<double>();
  const double* divisor = divisor_.data_ptr<double>();
  map_columns_into(in, out, width, op,
                   [shift, divisor](double v, std::int64_t j) { return (v - shift[j]) / divisor[j]; });
}

Tensor Scaler::inverse_transform(const Tensor& x) const {
  DESCENT_CHECK_VALUE(x.defined(), "Scaler.inverse_transform: the tensor is undefined");
  if (kind_ == ScalerKind::None) return x;
  if (kind_ == ScalerKind::Scale) {
    const double scale = scale_;
    return map_columns(x, 1, "Scaler.inverse_transform", [scale](double v, std::int64_t) { return v * scale; });
  }
  DESCENT_CHECK_VALUE(fitted(), "Scaler.inverse_transform: the {} scaler is not fitted; call fit first",
                      to_string(kind_));
  const std::int64_t width = shift_.numel();
  if (per_feature_) {
    DESCENT_CHECK_SHAPE(x.dim() >= 1 && row_size(x.shape()) == width,
                        "Scaler.inverse_transform: x has shape {} ({} features per row), the scaler was fitted on {}",
                        x.shape(), x.dim() >= 1 ? row_size(x.shape()) : 0, width);
  }
  const double* shift = shift_.data_ptr<double>();
  const double* divisor = divisor_.data_ptr<double>();
  return map_columns(x, width, "Scaler.inverse_transform",
                     [shift, divisor](double v, std::int64_t j) { return v * divisor[j] + shift[j]; });
}

std::map<std::string, Tensor> Scaler::state_dict() const {
  std::map<std::string, Tensor> state{
      {"kind", optim::encode_string(std::string(to_string(kind_)))},
      {"per_feature", optim::encode_scalar(per_feature_ ? 1.0 : 0.0)},
      {"scale", optim::encode_scalar(scale_)},
  };
  if (kind_ == ScalerKind::Standardize && fitted()) {
    state["mean"] = shift_.clone();
    state["std"] = divisor_.clone();
  } else if (kind_ == ScalerKind::MinMax && fitted()) {
    state["min"] = shift_.clone();
    state["max"] = max_.clone();
  }
  return state;
}

void Scaler::load_state_dict(const std::map<std::string, Tensor>& state) {
  // Everything is read and checked before any member changes.
  optim::StateDictReader reader(state, "Scaler.load_state_dict");
  const bool has_kind = state.count("kind") > 0;
  const std::string name = reader.string("kind", "");
  const bool per_feature = reader.scalar("per_feature", 1.0) != 0.0;
  const double scale = reader.scalar("scale", 1.0);
  if (!has_kind) {
    for (const char* key : {"mean", "std", "min", "max"}) reader.find(key);  // not "unexpected": the kind is missing
    reader.finish();  // throws, naming "kind" and any other missing or unexpected key
  }
  ScalerKind kind = ScalerKind::None;
  try {
    kind = parse_scaler_kind(name);
  } catch (const ValueError& e) {
    throw ValueError(fmt::format("Scaler.load_state_dict: {}", e.what()));
  }
  DESCENT_CHECK_VALUE(std::isfinite(scale) && scale != 0.0,
                      "Scaler.load_state_dict: \"scale\" must be finite and non-zero, got {}", scale);

  std::vector<double> first, second;  // mean and std, or min and max
  const bool standardize = kind == ScalerKind::Standardize;
  const std::string first_key = standardize ? "mean" : "min";
  const std::string second_key = standardize ? "std" : "max";
  if (has_statistics(kind) && (reader.find(first_key) != nullptr || reader.find(second_key) != nullptr)) {
    first = reader.vector(first_key, std::nullopt, {});
    second = reader.vector(second_key, static_cast<std::int64_t>(first.size()), {});
  }
  reader.finish();

  if (!first.empty()) {
    DESCENT_CHECK_VALUE(per_feature || first.size() == 1,
                        "Scaler.load_state_dict: a global scaler has one statistic, \"{}\" has {}", first_key,
                        first.size());
    for (std::size_t j = 0; j < first.size(); ++j) {
      const bool ok = std::isfinite(first[j]) && std::isfinite(second[j]) &&
                      (standardize ? second[j] > 0.0 : second[j] >= first[j]);
      DESCENT_CHECK_VALUE(ok, "Scaler.load_state_dict: feature {}: {} = {}, {} = {} are not valid statistics", j,
                          first_key, first[j], second_key, second[j]);
    }
  }

  kind_ = kind;
  per_feature_ = per_feature;
  scale_ = scale;
  shift_ = Tensor();
  divisor_ = Tensor();
  max_ = Tensor();
  if (first.empty()) return;
  shift_ = vector_tensor(first);
  if (standardize) {
    divisor_ = vector_tensor(second);
  } else {
    std::vector<double> divisor(first.size());
    for (std::size_t j = 0; j < first.size(); ++j) divisor[j] = first[j] == second[j] ? 1.0 : second[j] - first[j];
    divisor_ = vector_tensor(divisor);
    max_ = vector_tensor(second);
  }
}

}  // namespace descent::data
