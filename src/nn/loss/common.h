#pragma once
// Checks and helpers shared by the losses (src/nn/loss/*.cpp). Every message names the loss.

#include <cstdint>
#include <string_view>

#include "descent/core/tensor.h"
#include "descent/nn/loss.h"

namespace descent::loss_detail {

/// Throws unless t is defined; `what` is "input", "target", ...
void check_defined(std::string_view op, std::string_view what, const Tensor& t);

/// input and target: both defined, floating, of the same dtype and the same shape.
void check_same_floating(std::string_view op, const Tensor& input, const Tensor& target);

/// Applies Mean (mean of all elements), Sum or None.
Tensor reduce(const Tensor& loss, Reduction reduction);

/// An optional per-class weight: undefined, or a floating [C] tensor of the input's dtype. Returns
/// it detached (weights are constants), or an undefined tensor.
Tensor check_class_weight(std::string_view op, const Tensor& weight, const Tensor& input, std::int64_t classes);

/// An optional elementwise weight that must broadcast to the input's shape without enlarging it.
Tensor check_broadcast_weight(std::string_view op, std::string_view what, const Tensor& weight, const Tensor& input);

/// Class-index targets of a loss over input [N, C, d1, ...] (already batched), validated.
struct ClassTargets {
  Tensor gather_index;   // int64 [N, 1, d1, ...]: the target, ignored entries replaced by class 0
  Tensor sample_weight;  // input dtype, [N, d1, ...]: weight[t] (1 without weights), 0 where ignored
  Tensor keep;           // input dtype, [N, d1, ...]: 1 where the target is not ignored, else 0
  double total_weight = 0.0;  // sum of sample_weight (the Mean denominator)
  bool any_ignored = false;
  bool weighted = false;      // a class weight was given
};

/// Checks that target is int64 of shape [N, d1, ...] for input [N, C, d1, ...] and that each
/// index is in [0, C) or equals ignore_index; `weight` is the checked [C] weight or undefined.
ClassTargets class_targets(std::string_view op, const Tensor& input, const Tensor& target, const Tensor& weight,
                           std::int64_t ignore_index);

/// Batches an unbatched class-dim input: [C] -> [1, C] (other inputs unchanged).
Tensor batch_classes(const Tensor& input);

/// The negative log-likelihood per sample, [N, d1, ...]: -sample_weight * log_probs[n, t],
/// 0 where ignored.
Tensor picked_nll(const Tensor& log_probs, const ClassTargets& targets);

}  // namespace descent::loss_detail
