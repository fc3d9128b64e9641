#pragma once
// descent explain: one forward pass, the loss, the backward pass and one SGD step of a small fully
// connected network, narrated with every number. The numbers come from the library itself (float64
// nn::Linear layers, the autograd's backward run one layer at a time, optim::SGD's step); the
// narration only reads and arranges them. See docs/explain.md.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace descent::cli {

/// Lists are comma-separated text ("1,0.5"), parsed by explain_command so that a bad value is
/// reported with the option's name. The defaults are the textbook case: a 2-2-1 tanh network
/// without biases, x1 = x2 = 1, target 1, mse loss, lr 0.1, fixed weights (docs/explain.md).
struct ExplainArgs {
  std::string layers = "2,2,1";                  // sizes, input first: "2,3,1"
  std::string activation = "tanh";               // tanh, sigmoid, relu, leaky_relu, identity
  std::optional<std::string> output_activation;  // the output layer's (default: activation)
  bool bias = false;
  std::optional<std::string> input;    // default: all ones
  std::optional<std::string> target;   // default: all ones
  std::string loss = "mse";            // mse (PyTorch's mse_loss) or bce (binary_cross_entropy)
  double lr = 0.1;
  std::optional<std::string> weights;  // every weight, layer by layer, each neuron's incoming weights in turn
  std::optional<std::string> biases;   // every bias, layer by layer (needs bias)
  std::optional<std::uint64_t> seed;   // draw the weights with PyTorch's default init from this seed
  std::optional<std::string> html;     // also write an HTML page with the network drawn
};

/// The numbers of one layer (after the input), as the library computed them. Weights are [out, in]
/// row-major, as nn::Linear's weight: w[j * in + i] is the weight from input i to neuron j.
struct ExplainLayer {
  std::vector<double> s, a;                // the weighted sums and activations
  std::vector<double> da_ds;               // the activation's derivative at s
  std::vector<double> dl_da, dl_ds;        // the loss's gradient at a and at s
  std::vector<double> dl_dinput;           // at the layer's input (empty for the first layer)
  std::vector<double> w, w_grad, w_after;  // before the step, dL/dw, after optim::SGD's step
  std::vector<double> b, b_grad, b_after;  // empty without bias
};

struct Explanation {
  std::vector<ExplainLayer> layers;
  double loss = 0;
  double loss_after = 0;  // the same input and target through the updated network
};

/// The numbers without the narration (what the tests check).
Explanation explain(const ExplainArgs& args);

/// Prints the narration to `out` (and writes the HTML page when asked). Returns 0; throws
/// descent::ValueError naming the option and value for bad arguments.
int explain_command(const ExplainArgs& args, std::ostream& out, std::ostream& err);

}  // namespace descent::cli
