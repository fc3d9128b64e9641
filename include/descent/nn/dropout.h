#pragma once
// Dropout, as torch.nn.Dropout.

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

}  // namespace descent::nn
