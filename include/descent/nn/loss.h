#pragma once
// Loss functions, named and defined as in torch.nn.functional (PyTorch 1.13 semantics). Each takes
// the prediction first and the target second and returns a 0-dimensional tensor (Reduction::Mean
// or Sum) or the per-element / per-sample losses (Reduction::None). Gradients flow to the input
// and, where PyTorch has one, to a floating target; class weights and pos_weight are constants.
//
//   Tensor loss = cross_entropy(logits, labels, {.weight = w, .label_smoothing = 0.1});
//   loss.backward();
//
// Unlike PyTorch, input and target must have equal shapes (PyTorch broadcasts some losses with a
// warning) and the same floating dtype (descent does not promote). Bad inputs throw ShapeError,
// DTypeError, IndexError or ValueError naming the loss and the shapes. See docs/losses.md.

#include <cstdint>

#include "descent/core/tensor.h"

namespace descent {

/// How per-element losses are combined: their mean (the default), their sum, or not at all.
enum class Reduction { Mean, Sum, None };

/// (input - target)^2.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// |input - target|; the gradient at input == target is 0.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// With z = |input - target|: 0.5 z^2 where z < delta, else delta (z - 0.5 delta). delta > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);
/// With z = |input - target|: 0.5 z^2 / beta where z < beta, else z - 0.5 beta. beta >= 0; beta 0
/// is l1_loss.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);

struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  /// Optional class weights, shape [C], the input's dtype.
  Tensor weight;
  /// Class-index targets equal to this contribute nothing (and do not count in the mean).
  std::int64_t ignore_index = -100;
  /// In [0, 1]: the target becomes (1 - s) * target + s / C (uniform over the classes).
  double label_smoothing = 0.0;
};
/// -log_softmax(input, 1) picked by the target, computed through log_softmax (finite for logits of
/// any magnitude). input is [N, C], [N, C, d1, ...] or unbatched [C]. target is either int64
/// class indices of shape [N] ([N, d1, ...], or [] for [C]) or floating class probabilities of the
/// input's shape. With class indices and weights, Mean divides by the sum of the weights of the
/// targets that are not ignored; with probabilities, by N * d1 * ... .
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

struct NllLossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight;  // optional, [C]
  std::int64_t ignore_index = -100;
};
/// -weight[t] * log_probs[n, t] for class-index targets t (int64, shapes as in cross_entropy);
/// Mean divides by the sum of weight[t] over the targets that are not ignored.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NllLossOptions& options = {});

struct BinaryCrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight;  // optional, broadcast to the input's shape
};
/// -weight * (y log(p) + (1 - y) log(1 - p)) with each log clamped at -100 (as PyTorch), for
/// probabilities p in [0, 1] (else ValueError).
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, const BinaryCrossEntropyOptions& options = {});

struct BinaryCrossEntropyWithLogitsOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight;      // optional, broadcast to the input's shape
  Tensor pos_weight;  // optional weight of the positive term, broadcast to the input's shape (e.g. [C])
};
/// binary_cross_entropy(sigmoid(x), y) computed stably from the logits:
/// max(x, 0) - x y + log(1 + exp(-|x|)); with pos_weight p: (1 - y) x + (1 + (p - 1) y) softplus(-x).
/// Finite for logits of any magnitude; the gradient is sigmoid(x) - y (times the weights).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options = {});

struct HingeEmbeddingLossOptions {
  Reduction reduction = Reduction::Mean;
  double margin = 1.0;
};
/// x where target == 1, max(0, margin - x) where target == -1 (PyTorch's formula: a target that is
/// neither adds both terms).
Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, const HingeEmbeddingLossOptions& options = {});

struct MultiMarginLossOptions {
  Reduction reduction = Reduction::Mean;
  int p = 1;  // 1 or 2
  double margin = 1.0;
  Tensor weight;  // optional, [C]
};
/// The multi-class SVM hinge: for input [N, C] (or [C]) and int64 targets y [N] (or []),
/// loss_n = sum over i != y of weight[y] * max(0, margin - x[y] + x[i])^p / C.
Tensor multi_margin_loss(const Tensor& input, const Tensor& target, const MultiMarginLossOptions& options = {});

/// kl_div's reductions: PyTorch's "mean" (over all elements), "sum", "none" and "batchmean" (the
/// sum divided by the size of dim 0, the mathematically correct KL divergence per sample).
enum class KLDivReduction { Mean, Sum, None, BatchMean };

struct KLDivOptions {
  KLDivReduction reduction = KLDivReduction::Mean;
  bool log_target = false;  // the target is given as log-probabilities
};
/// target * (log(target) - input) (0 where target == 0), or exp(target) * (target - input) with
/// log_target; input holds log-probabilities.
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivOptions& options = {});

}  // namespace descent
