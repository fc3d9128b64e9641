#include "network_diagram.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "svg_chart.h"

namespace descent::cli {
namespace {

constexpr double kRadius = 46;
constexpr double kTop = 56;  // below the layer titles
constexpr const char* kPositive = "#1f77b4";
constexpr const char* kNegative = "#d62728";
constexpr const char* kGradient = "#7b3fa0";

// Four significant digits in the picture; the <title>s and the narration carry the full numbers.
std::string short_num(double v) { return fmt::format("{:.4g}", v == 0 ? 0.0 : v); }
std::string full_num(double v) { return fmt::format("{:.10g}", v); }

// Text with a white halo, so that labels stay readable where they cross lines.
std::string label(double x, double y, const std::string& text, const std::string& extra = "") {
  return fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\"{}>{}</text>", x,
      y, extra, escape_xml(text));
}

}  // namespace

std::string render_network_diagram(const NetworkDiagram& d) {
  const std::size_t n_layers = d.layers.size();
  std::size_t tallest = 1;
  for (const auto& layer : d.layers) tallest = std::max(tallest, layer.size());

  // An edge's label sits at the fraction n/(n+1) of its way, n = the size of its source layer: the
  // labels of the edges into one neuron then stack at distinct heights (n*to + from is unique), so
  // none overlaps another, and rows and columns are spaced to leave each label room. Beyond
  // kMaxLabelled sources that would take too much room: those edges keep only their <title>.
  constexpr std::size_t kMaxLabelled = 8;
  auto labelled = [&](std::size_t layer) { return d.layers[layer - 1].size() <= kMaxLabelled; };
  std::size_t widest_source = 1;
  for (std::size_t l = 1; l < n_layers; ++l)
    if (labelled(l)) widest_source = std::max(widest_source, d.layers[l - 1].size());
  const double dy = std::max(2 * kRadius + 58, 30.0 * static_cast<double>(widest_source + 1));
  std::vector<double> column_x(n_layers, 40 + kRadius);
  for (std::size_t l = 1; l < n_layers; ++l) {
    const double n = static_cast<double>(d.layers[l - 1].size());
    column_x[l] = column_x[l - 1] + (labelled(l) ? std::max(106 * (n + 1), 300.0) : 300.0);  // (1 - f) * gap > radius + label
  }
  const double width = (n_layers ? column_x.back() : 0) + kRadius + 130;
  const double height = kTop + kRadius + (static_cast<double>(tallest) - 1) * dy + kRadius + 48;
  auto neuron_y = [&](std::size_t layer, std::size_t i) {
    const double offset = (static_cast<double>(tallest) - static_cast<double>(d.layers[layer].size())) / 2;
    return kTop + kRadius + (offset + static_cast<double>(i)) * dy;
  };
  auto name_of = [&](std::size_t layer, std::size_t i) { return d.layers[layer][i].name; };

  std::string svg = fmt::format(
      "<svg id=\"{}\" class=\"network\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "role=\"img\" aria-label=\"the network with its values and gradients\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\n",
      escape_xml(d.id), width, height, width, height);
  for (std::size_t l = 0; l < n_layers && l < d.layer_titles.size(); ++l)
    svg += label(column_x[l], 22, d.layer_titles[l], " font-size=\"13\" font-weight=\"bold\"") + "\n";
  if (d.loss && n_layers)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"22\" font-size=\"13\" font-weight=\"bold\">L = {}</text>\n", column_x.back() + 80, short_num(*d.loss));

  // Edges first, so that the circles cover their ends. Width grows with |w|.
  double max_weight = 0;
  for (const auto& e : d.edges) max_weight = std::max(max_weight, std::fabs(e.weight));
  for (const auto& e : d.edges) {
    if (e.layer == 0 || e.layer >= n_layers || e.from >= d.layers[e.layer - 1].size() || e.to >= d.layers[e.layer].size()) continue;
    const double x1 = column_x[e.layer - 1], y1 = neuron_y(e.layer - 1, e.from);
    const double x2 = column_x[e.layer], y2 = neuron_y(e.layer, e.to);
    const std::string from = name_of(e.layer - 1, e.from), to = name_of(e.layer, e.to);
    const double stroke = 1 + 3 * (max_weight > 0 ? std::fabs(e.weight) / max_weight : 0);
    const double n = static_cast<double>(d.layers[e.layer - 1].size());
    const double f = n / (n + 1);
    const double lx = x1 + f * (x2 - x1), ly = y1 + f * (y2 - y1);
    svg += fmt::format("<g id=\"edge-{}-{}\" class=\"edge\"><title>w({}-&gt;{}) = {}; dL/dw = {}; after the step {}</title>", escape_xml(from),
                       escape_xml(to), escape_xml(from), escape_xml(to), full_num(e.weight), full_num(e.grad), full_num(e.weight_after));
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"{:.2f}\" stroke-opacity=\"0.75\"/>",
                       x1, y1, x2, y2, e.weight < 0 ? kNegative : kPositive, stroke);
    if (labelled(e.layer)) {
      svg += label(lx, ly - 3, "w " + short_num(e.weight) + " \u2192 " + short_num(e.weight_after));
      svg += label(lx, ly + 10, "\u2202L/\u2202w " + short_num(e.grad), fmt::format(" fill=\"{}\"", kGradient));
    }
    svg += "</g>\n";
  }

  for (std::size_t l = 0; l < n_layers; ++l)
    for (std::size_t i = 0; i < d.layers[l].size(); ++i) {
      const DiagramNeuron& v = d.layers[l][i];
      const double x = column_x[l], y = neuron_y(l, i);
      std::string title = v.s ? fmt::format("{}: s = {}, a = {}", v.name, full_num(*v.s), full_num(v.a)) : fmt::format("{} = {}", v.name, full_num(v.a));
      if (v.dl_ds) title += fmt::format(", dL/ds = {}", full_num(*v.dl_ds));
      if (v.bias) title += fmt::format(", b = {} (dL/db = {}, after the step {})", full_num(*v.bias), full_num(v.bias_grad.value_or(0)),
                                       full_num(v.bias_after.value_or(*v.bias)));
      svg += fmt::format("<g id=\"neuron-{}\" class=\"neuron\"><title>{}</title>", escape_xml(v.name), escape_xml(title));
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" stroke=\"#555\" stroke-width=\"1.5\"/>", x, y, kRadius,
                         v.s ? "#fdf6e3" : "#eeeeee");
      if (v.s) {
        svg += label(x, y - 12, v.name, " font-size=\"13\" font-weight=\"bold\"");
        svg += label(x, y + 5, "s " + short_num(*v.s));
        svg += label(x, y + 20, "a " + short_num(v.a));
      } else {
        svg += label(x, y - 4, v.name, " font-size=\"13\" font-weight=\"bold\"");
        svg += label(x, y + 13, short_num(v.a));
      }
      double below = y + kRadius + 14;
      if (v.dl_ds) {
        svg += label(x, below, "\u2202L/\u2202s " + short_num(*v.dl_ds), fmt::format(" fill=\"{}\"", kGradient));
        below += 14;
      }
      if (v.bias) svg += label(x, below, "b " + short_num(*v.bias) + " \u2192 " + short_num(v.bias_after.value_or(*v.bias)));
      if (v.target) svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">t = {}</text>", x + kRadius + 8, y + 4, short_num(*v.target));
      svg += "</g>\n";
    }
  svg += "</svg>\n";
  return svg;
}

}  // namespace descent::cli
