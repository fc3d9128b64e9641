#pragma once
// A small fully connected network drawn as SVG (descent explain's picture): neurons as circles in
// columns, one column per layer, with their weighted sum s and activation a; edges as lines whose
// colour is the weight's sign and whose width its size, labelled with the weight before and after
// the step and its gradient. Self-contained markup, written by hand like svg_chart.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace descent::cli {

struct DiagramNeuron {
  std::string name;                  // "x1", "h2", "y"
  double a = 0;                      // the activation (an input's value)
  std::optional<double> s = {};           // the weighted sum; none for inputs
  std::optional<double> dl_ds = {};       // dL/ds; none for inputs
  std::optional<double> bias = {};        // before the step; none without bias
  std::optional<double> bias_after = {};
  std::optional<double> bias_grad = {};
  std::optional<double> target = {};      // output neurons
};

/// The edge from neuron `from` of layer `layer - 1` to neuron `to` of layer `layer`.
struct DiagramEdge {
  std::size_t layer = 1;
  std::size_t from = 0;
  std::size_t to = 0;
  double weight = 0;
  double grad = 0;
  double weight_after = 0;
};

struct NetworkDiagram {
  std::string id = "network";                     // the svg element's id
  std::vector<std::vector<DiagramNeuron>> layers;  // layer 0: the inputs
  std::vector<std::string> layer_titles;           // one per layer: "input", "hidden (tanh)", ...
  std::vector<DiagramEdge> edges;
  std::optional<double> loss = {};
};

/// The svg element. Each neuron is a <g id="neuron-NAME">, each edge a <g id="edge-FROM-TO">
/// (tests and links find them by these ids), each with a <title> giving the exact numbers.
std::string render_network_diagram(const NetworkDiagram& diagram);

}  // namespace descent::cli
