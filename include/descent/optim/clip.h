#pragma once
// Gradient clipping and weight penalties, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ and
// the textbook L1 / L2 regularization terms. Clipping changes the parameters' .grad() in place,
// between backward() and step():
//
//   loss.backward();
//   descent::optim::clip_grad_norm_(model.parameters(), 1.0);
//   optimizer.step();

#include <limits>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::optim {

/// Scales all gradients together so that their joint p-norm is at most max_norm (by
/// max_norm / (norm + 1e-6), as PyTorch does) and returns the norm before clipping. norm_type may
/// be infinity (the largest |g|). Parameters without a gradient are skipped. With
/// error_if_nonfinite a NaN or infinite norm throws ValueError instead of spreading NaN.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

/// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);

/// sum over parameters of sum(|p|): add lambda * l1_penalty(params) to a loss for L1 regularization
/// (it pushes weights to exactly zero: sparse models).
Tensor l1_penalty(const std::vector<Tensor>& parameters);

/// sum over parameters of sum(p^2): add (lambda / 2) * l2_penalty(params) to a loss for L2
/// regularization, which is what SGD's weight_decay = lambda applies to the gradient directly.
Tensor l2_penalty(const std::vector<Tensor>& parameters);

}  // namespace descent::optim
