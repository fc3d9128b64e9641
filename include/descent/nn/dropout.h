#pragma once
// Dropout and Dropout2d, as torch.nn.Dropout and torch.nn.Dropout2d.

#include "descent/core/generator.h"
#include "descent/nn/module.h"

namespace descent::nn {

struct DropoutOptions {
  double p = 0.5;  // probability of zeroing an element, in [0, 1]
};

/// Inverted dropout: in training mode each element is zeroed with probability p and the others
/// are scaled by 1 / (1 - p), so the expected value is unchanged (p = 1 gives zeros); in
/// evaluation mode (or with p = 0) it returns its input. The masks come from a Generator the module
/// owns: seeded from the default generator when the module is built (so descent::manual_seed(s)
/// before building a network fixes its masks), or a copy of the one given.
///
///   Dropout drop({.p = 0.2});
class Dropout : public Module {
 public:
  /// Throws ValueError when p is outside [0, 1].
  explicit Dropout(const DropoutOptions& options = {});
  Dropout(const DropoutOptions& options, const Generator& generator);

  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  const DropoutOptions& options() const { return options_; }
  /// The generator the masks are drawn from (seed it to replay a sequence of masks).
  Generator& generator() { return generator_; }

 private:
  DropoutOptions options_;
  Generator generator_;
};

/// Channel dropout: in training mode each channel of [N, C, H, W] (or of unbatched [C, H, W]) is
/// zeroed as a whole with probability p and the kept channels are scaled by 1 / (1 - p); identity
/// in evaluation mode. Neighbouring pixels of a feature map are strongly correlated, so dropping
/// single pixels regularizes little; dropping whole maps does (Tompson et al., 2015). Masks come
/// from the module's own Generator, as Dropout's.
class Dropout2d : public Module {
 public:
  /// Throws ValueError when p is outside [0, 1].
  explicit Dropout2d(const DropoutOptions& options = {});
  Dropout2d(const DropoutOptions& options, const Generator& generator);

  /// ShapeError naming the layer for an input that is not 3-D or 4-D.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;

  const DropoutOptions& options() const { return options_; }
  Generator& generator() { return generator_; }

 private:
  DropoutOptions options_;
  Generator generator_;
};

}  // namespace descent::nn
