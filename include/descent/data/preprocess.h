#pragma once
// Feature scaling fitted on the training split only, then applied unchanged to validation, test and
// prediction data, and saved with the model (its state dict) so that a reloaded model sees inputs
// scaled exactly as in training.
//
//   Scaler scaler(ScalerKind::Standardize);
//   scaler.fit(train_features);                 // [N, F] (or [N, ...]: statistics per feature)
//   Tensor x = scaler.transform(test_features);

#include <map>
#include <string>
#include <string_view>

#include "descent/core/tensor.h"

namespace descent::data {

enum class ScalerKind {
  None,         // identity
  Standardize,  // (x - mean) / std, the population std as sklearn's StandardScaler (a constant feature gets std 1)
  MinMax,       // (x - min) / (max - min), into [0, 1] (a constant feature maps to 0)
  Scale,        // x / scale, one constant (e.g. 255 for pixels); set by the constructor, fit does nothing
};

/// "none", "standardize", "minmax", "scale"; parse throws ValueError naming the valid ones.
std::string_view to_string(ScalerKind kind);
ScalerKind parse_scaler_kind(std::string_view name);

class Scaler {
 public:
  /// per_feature: statistics for each feature (column of the [N, F] view) or one for all values
  /// (as for images normalized by the dataset's mean and std).
  explicit Scaler(ScalerKind kind = ScalerKind::None, bool per_feature = true, double scale = 1.0);

  ScalerKind kind() const { return kind_; }
  bool fitted() const;
  /// Computes the statistics over the first dimension (in float64). ValueError when empty.
  void fit(const Tensor& x);
  /// Scales x (same dtype and shape; float32 or float64, DTypeError otherwise; None returns x itself);
  /// ValueError before fit (for Standardize and MinMax) and ShapeError when the feature count differs
  /// from the fitted one.
  Tensor transform(const Tensor& x) const;
  /// transform in place: x's own memory is overwritten and x returned, so a large dataset is never
  /// held twice (the training images: 188 MB each copy). x must be a contiguous float32/float64
  /// tensor that does not require grad (ValueError / DTypeError otherwise).
  const Tensor& transform_(const Tensor& x) const;
  Tensor inverse_transform(const Tensor& x) const;

  /// "kind" (string as int64 bytes), "per_feature", "scale", "mean"/"std" or "min"/"max".
  std::map<std::string, Tensor> state_dict() const;
  /// Restores the kind and statistics; ValueError for missing keys or an unknown kind.
  void load_state_dict(const std::map<std::string, Tensor>& state);

 private:
  // out = the scaled in (contiguous, same shape; out may be in), with transform's checks named op.
  void scale_into(const Tensor& in, const Tensor& out, std::string_view op) const;
  ScalerKind kind_;
  bool per_feature_;
  double scale_;
  Tensor shift_;   // float64 [F] or [1]: the mean or the minimum
  Tensor divisor_; // float64 [F] or [1]: the std or max - min (1 where that is 0)
  Tensor max_;     // MinMax: the fitted maximum, saved so that a load recomputes divisor_ bit for bit
};

}  // namespace descent::data
