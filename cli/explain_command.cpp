// descent explain: one forward pass, the loss, the backward pass and one SGD step of a small network,
// narrated with the numbers. Nothing here computes a gradient by hand: the network is float64
// nn::Linear layers, each layer's forward is its own graph segment (a detached input that requires
// grad, the linear op, a detached weighted sum that requires grad, the activation), and the
// backward runs the autograd segment by segment from the loss down, passing each segment input's
// .grad() to the segment before it, which is what the engine does inside one graph. Reading those
// .grad()s gives every chain-rule factor; optim::SGD makes the step. The narration then shows that
// the factors multiply to the weight gradients the autograd computed.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "descent/autograd/grad_mode.h"
#include "descent/core/error.h"
#include "descent/core/generator.h"
#include "descent/io/atomic_file.h"
#include "descent/nn/linear.h"
#include "descent/nn/loss.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/optim/optimizers.h"
#include "explain_command.h"
#include "network_diagram.h"
#include "svg_chart.h"

namespace descent::cli {
namespace {

constexpr std::int64_t kMaxParameters = 64;
// The textbook case's weights, W1 = [[0.15, 0.20], [0.25, 0.30]] and W2 = [[0.40, 0.45]]. Unequal on
// purpose: with x1 = x2 = 1, equal rows would give h1 and h2 the same value and the same gradient,
// and they would stay twins forever (the symmetry that random initialization breaks).
const std::vector<std::int64_t> kDefaultLayers = {2, 2, 1};
const std::vector<double> kDefaultWeights = {0.15, 0.20, 0.25, 0.30, 0.40, 0.45};
const std::vector<std::string> kActivations = {"tanh", "sigmoid", "relu", "leaky_relu", "identity"};
constexpr double kLeakySlope = 0.01;  // leaky_relu's default slope, as PyTorch's

// --- arguments ------------------------------------------------------------------------------------

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    items.push_back(trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::vector<double> parse_numbers(const std::string& option, const std::string& text) {
  std::vector<double> values;
  for (const auto& item : split_commas(text)) {
    char* end = nullptr;
    const double v = item.empty() ? 0 : std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !std::isfinite(v))
      throw ValueError(fmt::format("explain: {} '{}': '{}' is not a finite number", option, text, item));
    values.push_back(v);
  }
  return values;
}

std::vector<std::int64_t> parse_layers(const std::string& text) {
  std::vector<std::int64_t> sizes;
  for (const auto& item : split_commas(text)) {
    char* end = nullptr;
    const long long v = item.empty() ? 0 : std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || end != item.c_str() + item.size() || v < 1 || v > kMaxParameters)
      throw ValueError(fmt::format("explain: --layers '{}': '{}' is not a layer size (a whole number from 1 to {})", text, item, kMaxParameters));
    sizes.push_back(v);
  }
  if (sizes.size() < 2) throw ValueError(fmt::format("explain: --layers '{}' needs at least two sizes: the inputs and the outputs", text));
  return sizes;
}

void check_activation(const std::string& option, const std::string& name) {
  if (std::find(kActivations.begin(), kActivations.end(), name) == kActivations.end())
    throw ValueError(fmt::format("explain: unknown activation '{}' for {} (known: tanh, sigmoid, relu, leaky_relu, identity)", name, option));
}

// What to run, resolved and checked from the arguments.
struct Plan {
  std::vector<std::int64_t> sizes;       // input size first
  std::vector<std::string> activations;  // one per layer after the input
  bool bias = false;
  std::vector<double> input, target;
  std::string loss;
  double lr = 0;
  std::optional<std::vector<double>> weights, biases;  // none: the Linear's own initialization
  std::uint64_t seed = 0;
  std::string weights_source;  // how the weights were chosen, for the header
};

std::string network_name(const std::vector<std::int64_t>& sizes) { return fmt::format("{}", fmt::join(sizes, "-")); }

Plan make_plan(const ExplainArgs& args, std::ostream& err) {
  Plan p;
  p.sizes = parse_layers(args.layers);
  const std::string net = network_name(p.sizes);
  p.bias = args.bias;
  std::int64_t n_weights = 0, n_params = 0;
  for (std::size_t l = 1; l < p.sizes.size(); ++l) {
    n_weights += p.sizes[l - 1] * p.sizes[l];
    n_params += p.sizes[l - 1] * p.sizes[l] + (p.bias ? p.sizes[l] : 0);
  }
  if (n_params > kMaxParameters)
    throw ValueError(fmt::format("explain: the {} network has {} parameters; explain narrates networks of at most {} (use fewer or smaller layers)",
                                 net, n_params, kMaxParameters));

  check_activation("--activation", args.activation);
  const std::string output_activation = args.output_activation.value_or(args.activation);
  check_activation("--output-activation", output_activation);
  p.activations.assign(p.sizes.size() - 1, args.activation);
  p.activations.back() = output_activation;

  p.loss = args.loss;
  if (p.loss != "mse" && p.loss != "bce") throw ValueError(fmt::format("explain: unknown loss '{}' for --loss (known: mse, bce)", p.loss));
  if (p.loss == "bce" && output_activation != "sigmoid")
    throw ValueError(fmt::format("explain: --loss bce needs outputs in (0, 1), but the output activation is '{}': add --output-activation sigmoid",
                                 output_activation));
  if (!(args.lr > 0) || !std::isfinite(args.lr)) throw ValueError(fmt::format("explain: --lr must be a number > 0, got {}", args.lr));
  p.lr = args.lr;

  p.input = args.input ? parse_numbers("--input", *args.input) : std::vector<double>(static_cast<std::size_t>(p.sizes.front()), 1.0);
  if (static_cast<std::int64_t>(p.input.size()) != p.sizes.front())
    throw ValueError(fmt::format("explain: --input '{}' has {} values, the {} network has {} inputs", *args.input, p.input.size(), net, p.sizes.front()));
  p.target = args.target ? parse_numbers("--target", *args.target) : std::vector<double>(static_cast<std::size_t>(p.sizes.back()), 1.0);
  if (static_cast<std::int64_t>(p.target.size()) != p.sizes.back())
    throw ValueError(fmt::format("explain: --target '{}' has {} values, the {} network has {} outputs", *args.target, p.target.size(), net, p.sizes.back()));
  if (p.loss == "bce")
    for (double t : p.target)
      if (t < 0 || t > 1) throw ValueError(fmt::format("explain: --target '{}': bce needs targets in [0, 1], got {}", args.target.value_or(""), t));

  if (args.weights) {
    p.weights = parse_numbers("--weights", *args.weights);
    if (static_cast<std::int64_t>(p.weights->size()) != n_weights) {
      std::string shapes;
      for (std::size_t l = 1; l < p.sizes.size(); ++l)
        shapes += fmt::format("{}layer {}: {}x{}", l > 1 ? ", " : "", l, p.sizes[l], p.sizes[l - 1]);
      throw ValueError(fmt::format("explain: --weights '{}' has {} values, the {} network has {} weights ({})", *args.weights, p.weights->size(),
                                   net, n_weights, shapes));
    }
    if (args.seed) err << "explain: --seed is ignored: --weights gives every weight\n";
    p.weights_source = "given with --weights";
  } else if (!args.seed && p.sizes == kDefaultLayers) {
    p.weights = kDefaultWeights;
    p.weights_source = "the defaults, unequal so that the two hidden units differ (docs/explain.md)";
  } else {
    p.seed = args.seed.value_or(0);
    p.weights_source = fmt::format("drawn as PyTorch's nn.Linear draws them, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), seed {}", p.seed);
  }

  if (args.biases) {
    if (!p.bias) throw ValueError("explain: --biases given without --bias");
    p.biases = parse_numbers("--biases", *args.biases);
    const std::int64_t n_biases = n_params - n_weights;
    if (static_cast<std::int64_t>(p.biases->size()) != n_biases)
      throw ValueError(fmt::format("explain: --biases '{}' has {} values, the {} network has {} biases", *args.biases, p.biases->size(), net, n_biases));
  } else if (p.bias && p.weights) {
    p.biases = std::vector<double>(static_cast<std::size_t>(n_params - n_weights), 0.0);  // fixed weights: biases start at 0
  }
  return p;
}

// --- the computation ------------------------------------------------------------------------------

Tensor activate(const std::string& name, const Tensor& s) {
  if (name == "tanh") return tanh(s);
  if (name == "sigmoid") return sigmoid(s);
  if (name == "relu") return relu(s);
  if (name == "leaky_relu") return leaky_relu(s, kLeakySlope);
  return s * 1.0;  // identity, as an op so that the segment has a graph like the others
}

std::string derivative_formula(const std::string& name) {
  if (name == "tanh") return "1 - a^2";
  if (name == "sigmoid") return "a (1 - a)";
  if (name == "relu") return "1 if s > 0, else 0";
  if (name == "leaky_relu") return fmt::format("1 if s > 0, else {}", kLeakySlope);
  return "1";
}

Tensor compute_loss(const std::string& loss, const Tensor& y, const Tensor& t) {
  return loss == "mse" ? mse_loss(y, t) : binary_cross_entropy(y, t);
}

// One layer's forward as two graph segments: input -> s (the linear op) and s -> a (the activation).
struct Segments {
  Tensor input, s, s_leaf, a;
};

std::vector<double> values(const Tensor& t) { return t.contiguous().to_vector<double>(); }

Explanation compute(const Plan& p) {
  const std::size_t n = p.sizes.size() - 1;
  Generator generator(p.seed);
  std::vector<std::unique_ptr<nn::Linear>> linears;
  std::size_t wk = 0, bk = 0;
  for (std::size_t l = 0; l < n; ++l) {
    auto& fc = linears.emplace_back(std::make_unique<nn::Linear>(
        nn::LinearOptions{.in_features = p.sizes[l], .out_features = p.sizes[l + 1], .bias = p.bias, .dtype = kFloat64}, generator));
    if (p.weights)
      for (std::int64_t i = 0; i < fc->weight().numel(); ++i) fc->weight().set_flat(i, (*p.weights)[wk++]);
    if (p.biases)
      for (std::int64_t i = 0; i < fc->bias().numel(); ++i) fc->bias().set_flat(i, (*p.biases)[bk++]);
  }

  Explanation r;
  r.layers.resize(n);
  const Tensor x = tensor(p.input, {1, p.sizes.front()}, kFloat64);
  const Tensor t = tensor(p.target, {1, p.sizes.back()}, kFloat64);
  std::vector<Segments> seg(n);
  for (std::size_t l = 0; l < n; ++l) {
    seg[l].input = l == 0 ? x : seg[l - 1].a.detach();
    if (l > 0) seg[l].input.requires_grad_();
    seg[l].s = (*linears[l])(seg[l].input);
    seg[l].s_leaf = seg[l].s.detach();
    seg[l].s_leaf.requires_grad_();
    seg[l].a = activate(p.activations[l], seg[l].s_leaf);
    // da/ds: the activation is elementwise (a diagonal Jacobian), so its backward of ones gives
    // the derivative at each s.
    Tensor probe = seg[l].s.detach();
    probe.requires_grad_();
    activate(p.activations[l], probe).backward(ones_like(probe));
    auto& L = r.layers[l];
    L.s = values(seg[l].s);
    L.a = values(seg[l].a);
    L.da_ds = values(probe.grad());
    L.w = values(linears[l]->weight());
    if (p.bias) L.b = values(linears[l]->bias());
  }
  const Tensor y = seg.back().a.detach();
  y.requires_grad_();
  const Tensor loss = compute_loss(p.loss, y, t);
  r.loss = loss.item();

  // Backward, segment by segment from the loss: each segment's input gradient seeds the one before.
  loss.backward();
  Tensor g = y.grad();
  for (std::size_t l = n; l-- > 0;) {
    auto& L = r.layers[l];
    L.dl_da = values(g);
    seg[l].a.backward(g);
    L.dl_ds = values(seg[l].s_leaf.grad());
    seg[l].s.backward(seg[l].s_leaf.grad());
    L.w_grad = values(linears[l]->weight().grad());
    if (p.bias) L.b_grad = values(linears[l]->bias().grad());
    if (l > 0) {
      g = seg[l].input.grad();
      L.dl_dinput = values(g);
    }
  }

  // The step, by the library's optimizer.
  std::vector<Tensor> params;
  for (const auto& fc : linears) {
    params.push_back(fc->weight());
    if (p.bias) params.push_back(fc->bias());
  }
  optim::SGD sgd(params, {.lr = p.lr});
  sgd.step();
  for (std::size_t l = 0; l < n; ++l) {
    r.layers[l].w_after = values(linears[l]->weight());
    if (p.bias) r.layers[l].b_after = values(linears[l]->bias());
  }

  NoGradGuard no_grad;
  Tensor a = x;
  for (std::size_t l = 0; l < n; ++l) a = activate(p.activations[l], (*linears[l])(a));
  r.loss_after = compute_loss(p.loss, a, t).item();
  return r;
}

// --- the narration --------------------------------------------------------------------------------

// Seven significant digits: enough to redo any product by hand and see it agree.
std::string num(double v) { return fmt::format("{:.7g}", v == 0 ? 0.0 : v); }
// A factor in a product: negative numbers in parentheses.
std::string factor(double v) { return v < 0 ? "(" + num(v) + ")" : num(v); }

struct Names {
  std::vector<std::int64_t> sizes;
  std::string neuron(std::size_t layer, std::size_t i) const {
    if (layer == 0) return fmt::format("x{}", i + 1);
    if (layer + 1 == sizes.size()) return sizes.back() == 1 ? "y" : fmt::format("y{}", i + 1);
    if (sizes.size() == 3) return fmt::format("h{}", i + 1);
    return fmt::format("h{}.{}", layer, i + 1);  // several hidden layers: h<layer>.<unit>
  }
  // The weight on the edge from neuron `from` of layer `layer - 1` to neuron `to` of layer `layer`.
  std::string weight(std::size_t layer, std::size_t from, std::size_t to) const {
    return fmt::format("w({}->{})", neuron(layer - 1, from), neuron(layer, to));
  }
  std::string bias(std::size_t layer, std::size_t i) const { return fmt::format("b({})", neuron(layer, i)); }
  std::string list(std::size_t layer) const {
    const auto count = static_cast<std::size_t>(sizes[layer]);
    if (count > 4) return neuron(layer, 0) + ", ..., " + neuron(layer, count - 1);
    std::string s;
    for (std::size_t i = 0; i < count; ++i) s += (i ? ", " : "") + neuron(layer, i);
    return s;
  }
};

// Rows of cells, each column padded to its widest cell (all text here is ASCII).
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < row.size(); ++c) line += c + 1 < row.size() ? fmt::format("{:<{}}   ", row[c], width[c]) : row[c];
    out += line + "\n";
  }
  return out;
}

struct Check {
  std::size_t count = 0;
  double worst = 0;  // the largest |product - autograd|, relative to max(1, |autograd|)
  std::vector<std::string> failures;
  void compare(const std::string& what, double product, double autograd) {
    ++count;
    const double diff = std::fabs(product - autograd) / std::max(1.0, std::fabs(autograd));
    worst = std::max(worst, diff);
    if (diff > 1e-12) failures.push_back(fmt::format("{}: product {} vs autograd {}", what, num(product), num(autograd)));
  }
};

std::string narrate(const Plan& p, const Explanation& r, Check& check) {
  const Names names{p.sizes};
  const std::size_t n = p.sizes.size() - 1;
  const auto size = [&](std::size_t layer) { return static_cast<std::size_t>(p.sizes[layer]); };
  auto activation_of = [&](std::size_t l) { return p.activations[l - 1] == "identity" ? std::string("s") : p.activations[l - 1] + "(s)"; };
  std::string o;

  // The setup.
  o += fmt::format("descent explain: one gradient-descent step of a {} network, narrated\n\n", network_name(p.sizes));
  std::string layout = fmt::format("inputs {}", names.list(0));
  for (std::size_t l = 1; l < n; ++l) layout += fmt::format("; hidden {}", names.list(l));
  layout += fmt::format("; output {}", names.list(n));
  std::string acts = p.activations.front() == p.activations.back()
                         ? fmt::format("{} at every layer", p.activations.front())
                         : fmt::format("{} at the hidden layers, {} at the output", p.activations.front(), p.activations.back());
  std::vector<std::vector<std::string>> setup;
  setup.push_back({"network", fmt::format("{}: {}; {}; {}", network_name(p.sizes), layout, acts, p.bias ? "with biases" : "no biases")});
  std::string inputs, targets;
  for (std::size_t i = 0; i < size(0); ++i) inputs += fmt::format("{}{} = {}", i ? ", " : "", names.neuron(0, i), num(p.input[i]));
  for (std::size_t i = 0; i < size(n); ++i)
    targets += fmt::format("{}{} = {}", i ? ", " : "", size(n) == 1 ? std::string("t") : fmt::format("t{}", i + 1), num(p.target[i]));
  setup.push_back({"input", inputs});
  setup.push_back({"target", targets});
  setup.push_back({"weights", p.weights_source});
  if (p.loss == "mse") {
    setup.push_back({"loss", fmt::format("mse, as PyTorch's mse_loss: L = (1/n) sum_k (y_k - t_k)^2 over the n = {} outputs", size(n))});
    setup.push_back({"", "(no 1/2 in front, so dL/dy = 2 (y - t) / n)"});
  } else {
    setup.push_back({"loss", "bce, as PyTorch's binary_cross_entropy: L = (1/n) sum_k -(t_k log y_k + (1 - t_k) log(1 - y_k))"});
    setup.push_back({"", fmt::format("over the n = {} outputs, so dL/dy = (y - t) / (y (1 - y)) / n", size(n))});
  }
  setup.push_back({"step", fmt::format("plain SGD (descent's optim::SGD), lr = {}: w_new = w - lr * dL/dw", num(p.lr))});
  o += table(setup, "  ");
  o += "  Every number is float64 from descent itself: the forward pass, the autograd's backward pass (one graph\n"
       "  segment per layer, so that the gradient at each layer's input can be read) and optim::SGD's step.\n";

  // FORWARD: each neuron's weighted sum and activation.
  o += "\nFORWARD  s = the weighted sum of a neuron's inputs, a = its activation\n";
  std::vector<std::vector<std::string>> rows;
  for (std::size_t l = 1; l <= n; ++l) {
    const auto& L = r.layers[l - 1];
    const auto& prev = l == 1 ? p.input : r.layers[l - 2].a;
    for (std::size_t j = 0; j < size(l); ++j) {
      std::string sum;
      for (std::size_t i = 0; i < size(l - 1); ++i) sum += fmt::format("{}{}*{}", i ? " + " : "", factor(L.w[j * size(l - 1) + i]), factor(prev[i]));
      if (p.bias) sum += " + " + factor(L.b[j]);
      rows.push_back({names.neuron(l, j), "s = " + sum, "= " + num(L.s[j]), fmt::format("a = {} = {}", activation_of(l), num(L.a[j]))});
    }
  }
  o += table(rows, "  ");

  // LOSS.
  const auto& out = r.layers.back();
  o += "\nLOSS\n";
  std::string formula, filled;
  for (std::size_t k = 0; k < size(n); ++k) {
    const std::string y = names.neuron(n, k), t = size(n) == 1 ? "t" : fmt::format("t{}", k + 1);
    const std::string sep = k ? " + " : "";
    if (p.loss == "mse") {
      formula += fmt::format("{}({} - {})^2", sep, y, t);
      filled += fmt::format("{}({} - {})^2", sep, num(out.a[k]), num(p.target[k]));
    } else {
      formula += fmt::format("{}-({} log {} + (1 - {}) log(1 - {}))", sep, t, y, t, y);
      filled += fmt::format("{}-({} log {} + {} log {})", sep, num(p.target[k]), num(out.a[k]), num(1 - p.target[k]), num(1 - out.a[k]));
    }
  }
  if (size(n) > 1) {
    formula = fmt::format("({}) / {}", formula, size(n));
    filled = fmt::format("({}) / {}", filled, size(n));
  }
  o += fmt::format("  L = {}\n    = {}\n    = {}\n", formula, filled, num(r.loss));

  // BACKWARD: every factor read from the autograd, and their products compared with its gradients.
  o += "\nBACKWARD  the chain rule, one layer at a time from the output: dL/dw = dL/da * da/ds * ds/dw,\n"
       "          where ds/dw is the value entering the weight's edge (and ds/db = 1)\n";
  o += p.loss == "mse" ? "  from the loss: dL/dy = 2 (y - t) / n\n" : "  from the loss: dL/dy = (y - t) / (y (1 - y)) / n\n";
  for (std::size_t l = n; l >= 1; --l) {
    const auto& L = r.layers[l - 1];
    const auto& prev = l == 1 ? p.input : r.layers[l - 2].a;
    o += fmt::format("\n  layer {} ({}, {}: da/ds = {})\n", l, l == n ? "output" : "hidden", p.activations[l - 1], derivative_formula(p.activations[l - 1]));
    if (l < n) {
      // A hidden neuron feeds every neuron of the next layer: its dL/da sums over them.
      const auto& next = r.layers[l];
      o += "    dL/da of a hidden neuron sums over the neurons it feeds: dL/da(i) = sum_j dL/ds(j) * w(i->j)\n";
      rows.clear();
      for (std::size_t i = 0; i < size(l); ++i) {
        std::string terms;
        double sum = 0;
        for (std::size_t j = 0; j < size(l + 1); ++j) {
          terms += fmt::format("{}{}*{}", j ? " + " : "", factor(next.dl_ds[j]), factor(next.w[j * size(l) + i]));
          sum += next.dl_ds[j] * next.w[j * size(l) + i];
        }
        check.compare("dL/da(" + names.neuron(l, i) + ")", sum, next.dl_dinput[i]);
        rows.push_back({names.neuron(l, i), "dL/da = " + terms, "= " + num(next.dl_dinput[i])});
      }
      o += table(rows, "    ");
    } else {
      rows.clear();
      for (std::size_t k = 0; k < size(n); ++k)
        rows.push_back({names.neuron(n, k), p.loss == "mse" ? fmt::format("dL/da = 2 * ({} - {}) / {}", num(L.a[k]), num(p.target[k]), size(n))
                                                              : fmt::format("dL/da = ({} - {}) / ({} * {}) / {}", num(L.a[k]), num(p.target[k]),
                                                                            num(L.a[k]), num(1 - L.a[k]), size(n)),
                        "= " + num(L.dl_da[k])});
      o += table(rows, "    ");
    }
    rows = {{"neuron", "dL/da", "da/ds", "dL/ds = dL/da * da/ds"}};
    for (std::size_t j = 0; j < size(l); ++j) {
      check.compare("dL/ds(" + names.neuron(l, j) + ")", L.dl_da[j] * L.da_ds[j], L.dl_ds[j]);
      rows.push_back({names.neuron(l, j), num(L.dl_da[j]), num(L.da_ds[j]), num(L.dl_ds[j])});
    }
    o += "\n" + table(rows, "    ");
    rows = {{"parameter", "dL/da * da/ds * ds/dw", "= product", "autograd's dL/dw"}};
    for (std::size_t j = 0; j < size(l); ++j) {
      for (std::size_t i = 0; i < size(l - 1); ++i) {
        const double product = L.dl_da[j] * L.da_ds[j] * prev[i];
        const double grad = L.w_grad[j * size(l - 1) + i];
        check.compare(names.weight(l, i, j), product, grad);
        rows.push_back({names.weight(l, i, j), fmt::format("{} * {} * {}", factor(L.dl_da[j]), factor(L.da_ds[j]), factor(prev[i])), num(product), num(grad)});
      }
      if (p.bias) {
        const double product = L.dl_da[j] * L.da_ds[j];
        check.compare(names.bias(l, j), product, L.b_grad[j]);
        rows.push_back({names.bias(l, j), fmt::format("{} * {} * 1", factor(L.dl_da[j]), factor(L.da_ds[j])), num(product), num(L.b_grad[j])});
      }
    }
    o += "\n" + table(rows, "    ");
  }
  o += check.failures.empty()
           ? fmt::format("\n  check: all {} products of chain-rule factors equal the autograd's gradients ({})\n", check.count,
                         check.worst == 0 ? std::string("exactly") : fmt::format("largest relative difference {:.1e}", check.worst))
           : fmt::format("\n  check FAILED: {} of {} products differ from the autograd's gradients:\n    {}\n", check.failures.size(), check.count,
                         fmt::join(check.failures, "\n    "));

  // UPDATE: the parameters before and after optim::SGD's step.
  o += fmt::format("\nUPDATE  optim::SGD, lr = {}: new = old - {} * dL/dw\n", num(p.lr), num(p.lr));
  rows = {{"parameter", "before", "dL/dw", "after"}};
  for (std::size_t l = 1; l <= n; ++l) {
    const auto& L = r.layers[l - 1];
    for (std::size_t j = 0; j < size(l); ++j) {
      for (std::size_t i = 0; i < size(l - 1); ++i) {
        const std::size_t k = j * size(l - 1) + i;
        rows.push_back({names.weight(l, i, j), num(L.w[k]), num(L.w_grad[k]), num(L.w_after[k])});
      }
      if (p.bias) rows.push_back({names.bias(l, j), num(L.b[j]), num(L.b_grad[j]), num(L.b_after[j])});
    }
  }
  o += table(rows, "  ");
  o += fmt::format("  loss with the new weights: L = {} (before the step: {})\n", num(r.loss_after), num(r.loss));
  bool all_zero = true;
  for (const auto& L : r.layers) {
    for (double g : L.w_grad) all_zero = all_zero && g == 0;
    for (double g : L.b_grad) all_zero = all_zero && g == 0;
  }
  if (all_zero) {
    const bool relu = std::find(p.activations.begin(), p.activations.end(), "relu") != p.activations.end();
    o += fmt::format("  note: every gradient is 0, so the step changes nothing{}\n",
                     relu ? ": a relu unit whose s <= 0 passes no gradient back (a dead unit)" : "");
  }
  return o;
}

// --- the HTML page --------------------------------------------------------------------------------

NetworkDiagram make_diagram(const Plan& p, const Explanation& r) {
  const Names names{p.sizes};
  NetworkDiagram d;
  d.loss = r.loss;
  const std::size_t n = p.sizes.size() - 1;
  d.layers.emplace_back();
  d.layer_titles.push_back("input");
  for (std::size_t i = 0; i < p.input.size(); ++i) d.layers[0].push_back({.name = names.neuron(0, i), .a = p.input[i]});
  for (std::size_t l = 1; l <= n; ++l) {
    const auto& L = r.layers[l - 1];
    const auto in = static_cast<std::size_t>(p.sizes[l - 1]);
    d.layer_titles.push_back(fmt::format("{} ({})", l == n ? "output" : "hidden", p.activations[l - 1]));
    auto& layer = d.layers.emplace_back();
    for (std::size_t j = 0; j < L.s.size(); ++j) {
      DiagramNeuron v{.name = names.neuron(l, j), .a = L.a[j], .s = L.s[j], .dl_ds = L.dl_ds[j]};
      if (p.bias) v.bias = L.b[j], v.bias_after = L.b_after[j], v.bias_grad = L.b_grad[j];
      if (l == n) v.target = p.target[j];
      layer.push_back(v);
      for (std::size_t i = 0; i < in; ++i)
        d.edges.push_back({.layer = l, .from = i, .to = j, .weight = L.w[j * in + i], .grad = L.w_grad[j * in + i], .weight_after = L.w_after[j * in + i]});
    }
  }
  return d;
}

std::string render_page(const Plan& p, const Explanation& r, const std::string& narration) {
  const std::string title = fmt::format("descent explain: a {} network, one step", network_name(p.sizes));
  std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
)";
  html += fmt::format("<title>{}</title>\n", escape_xml(title));
  html += R"(<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
svg.network { border: 1px solid #eee; background: #fff; max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 0.85em; }
</style></head><body>
)";
  html += fmt::format("<h1>{}</h1>\n", escape_xml(title));
  html += fmt::format(
      "<p>Each circle is a neuron with its weighted sum <i>s</i> and activation <i>a</i> (inputs show their value), and under it the "
      "gradient &#8706;L/&#8706;s. Each edge shows its weight before and after one SGD step (lr {}) and the gradient &#8706;L/&#8706;w; "
      "blue edges are positive weights, red negative, thicker is larger. Hover for the exact numbers. Loss before the step {}, after {}.</p>\n",
      escape_xml(num(p.lr)), escape_xml(num(r.loss)), escape_xml(num(r.loss_after)));
  html += render_network_diagram(make_diagram(p, r));
  html += fmt::format("<h2>The step, narrated</h2>\n<pre id=\"narration\">{}</pre>\n", escape_xml(narration));
  html += "<p><small>Written by descent explain.</small></p>\n</body></html>\n";
  return html;
}

}  // namespace

Explanation explain(const ExplainArgs& args) {
  std::ostringstream ignored;
  return compute(make_plan(args, ignored));
}

int explain_command(const ExplainArgs& args, std::ostream& out, std::ostream& err) {
  const Plan plan = make_plan(args, err);
  const Explanation numbers = compute(plan);
  Check check;
  const std::string narration = narrate(plan, numbers, check);
  out << narration;
  if (args.html) {
    io::write_file_atomically(*args.html, render_page(plan, numbers, narration));
    out << fmt::format("\nwrote {}\n", *args.html);
  }
  if (!check.failures.empty()) {
    err << "explain: the chain-rule products disagree with the autograd (a bug in descent)\n";
    return 1;
  }
  return 0;
}

}  // namespace descent::cli
