#include "report.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "svg_chart.h"

namespace descent::cli {
namespace {

constexpr const char* kTrainColor = "#1f77b4";
constexpr const char* kValColor = "#d62728";

std::vector<double> epochs_axis(const train::History& h) {
  auto e = h.column("epoch");
  for (std::size_t i = 0; i < e.size(); ++i)
    if (!std::isfinite(e[i])) e[i] = static_cast<double>(i + 1);
  return e;
}

bool any_finite(const std::vector<double>& v) {
  for (double x : v)
    if (std::isfinite(x)) return true;
  return false;
}

// One chart of `key` and "val_<key>" per epoch, when the history has it.
std::string metric_chart(const train::History& h, const std::string& key, const std::string& title, bool log_y = false) {
  const auto x = epochs_axis(h);
  LineChart chart{.id = "chart-" + key, .title = title, .x_label = "epoch", .y_label = key, .log_y = log_y};
  const auto train = h.column(key);
  const auto val = h.column("val_" + key);
  if (any_finite(train)) chart.series.push_back({.name = "training", .x = x, .y = train, .color = kTrainColor});
  if (any_finite(val)) chart.series.push_back({.name = "validation", .x = x, .y = val, .color = kValColor, .dashed = true});
  if (chart.series.empty()) return "";
  return render_line_chart(chart);
}

std::string step_chart(const train::History& h) {
  if (h.steps.empty()) return "";
  // At most ~1500 points: the mean of each run of consecutive steps.
  const std::size_t n = h.steps.size();
  const std::size_t per = (n + 1499) / 1500;
  Series s{.name = "loss per step", .color = kTrainColor};
  for (std::size_t i = 0; i < n; i += per) {
    double sum = 0;
    std::size_t k = 0;
    for (std::size_t j = i; j < std::min(n, i + per); ++j, ++k) sum += h.steps[j].loss;
    s.x.push_back(static_cast<double>(h.steps[i].step));
    s.y.push_back(sum / static_cast<double>(k));
  }
  bool positive = true;
  for (double y : s.y) positive = positive && y > 0;
  LineChart chart{.id = "chart-steps", .title = per > 1 ? fmt::format("Training loss per step (means of {} steps)", per) : "Training loss per step",
                  .x_label = "step", .y_label = "loss", .series = {s}, .log_y = positive};
  return render_line_chart(chart);
}

std::string lr_chart(const train::History& h) {
  const auto lr = h.column("lr");
  if (!any_finite(lr)) return "";
  LineChart chart{.id = "chart-lr", .title = "Learning rate", .x_label = "epoch", .y_label = "learning rate",
                  .series = {{.name = "lr", .x = epochs_axis(h), .y = lr, .color = "#2ca02c"}}};
  return render_line_chart(chart);
}

std::string format_value(double v) {
  if (!std::isfinite(v)) return "—";
  return fmt::format("{:.4f}", v);
}

std::string evaluation_section(const ReportData& d) {
  if (!d.evaluation) return "";
  const auto& e = *d.evaluation;
  std::string html = fmt::format("<h2>Evaluation on the {} data ({} examples)</h2>\n<table class=\"facts\">\n", escape_xml(d.evaluation_name), e.count);
  for (const auto& [k, v] : e.scalars()) html += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape_xml(k), format_value(v));
  html += "</table>\n";
  if (e.classification) {
    const auto& m = *e.classification;
    html += render_confusion_matrix("chart-confusion", d.classes, m.confusion_matrix());
    const auto p = m.precision(), r = m.recall(), f = m.f1();
    html += "<table class=\"classes\"><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n";
    const auto& cm = m.confusion_matrix();
    for (std::size_t c = 0; c < p.size(); ++c) {
      std::int64_t support = 0;
      for (auto v : cm[c]) support += v;
      html += fmt::format("<tr><td>{}</td><td>{:.4f}</td><td>{:.4f}</td><td>{:.4f}</td><td>{}</td></tr>\n",
                          escape_xml(c < d.classes.size() ? d.classes[c] : std::to_string(c)), p[c], r[c], f[c], support);
    }
    html += "</table>\n";
  }
  return html;
}

// The per-layer statistics of the diagnostics ("grad_norm.0", ...): one series per layer, in the
// network's order ("2" before "10": digit runs compare as numbers), coloured from dark (the first
// layer) to light (the last), so the gradient's flow through depth reads as a colour ramp.
bool is_layer_key(const std::string& key) { return key.find('.') != std::string::npos; }

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      const std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// Viridis at t in [0, 1], from five anchors.
std::string ramp_color(double t) {
  static const double anchors[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  const double u = std::clamp(t, 0.0, 1.0) * 4;
  const int k = std::min(3, static_cast<int>(u));
  const double f = u - k;
  int rgb[3];
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<int>(std::lround(anchors[k][c] + f * (anchors[k + 1][c] - anchors[k][c])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string layer_chart(const train::History& h, const std::string& stat, const std::string& id, const std::string& title,
                        const std::string& y_label, bool log_y) {
  LineChart chart{.id = id, .title = title, .x_label = "epoch", .y_label = y_label, .log_y = log_y};
  const std::string prefix = stat + ".";
  std::vector<std::string> layers;
  for (const auto& key : h.keys())
    if (key.rfind(prefix, 0) == 0 && any_finite(h.column(key))) layers.push_back(key.substr(prefix.size()));
  std::sort(layers.begin(), layers.end(), natural_less);
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const double t = layers.size() > 1 ? 0.85 * static_cast<double>(k) / static_cast<double>(layers.size() - 1) : 0.0;
    chart.series.push_back({.name = "layer " + layers[k], .x = epochs_axis(h), .y = h.column(prefix + layers[k]),
                            .color = ramp_color(t)});
  }
  if (chart.series.empty()) return "";
  return render_line_chart(chart);
}

std::string diagnostics_section(const ReportData& d) {
  if (!d.diagnostics) return "";
  std::string html = "<h2 id=\"diagnostics\">Diagnostics</h2>\n";
  if (d.diagnoses.empty()) {
    html += "<p id=\"diagnoses\">No problem found: no vanishing or exploding gradients, no non-finite values, no "
            "layer of dead units, no overfitting, no plateau.</p>\n";
  } else {
    html += "<table class=\"diagnoses\" id=\"diagnoses\"><tr><th>epoch</th><th>problem</th><th>what was measured</th>"
            "<th>remedy</th></tr>\n";
    for (const auto& x : d.diagnoses) {
      std::string kind = x.kind;
      std::replace(kind.begin(), kind.end(), '_', ' ');
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          x.step > 0 ? fmt::format("{} (step {})", x.epoch, x.step) : std::to_string(x.epoch),
                          escape_xml(kind), escape_xml(x.message), escape_xml(x.remedy));
    }
    html += "</table>\n";
  }
  html += "<div class=\"charts\">\n";
  html += layer_chart(d.history, "grad_norm", "chart-gradient-flow", "Gradient flow: gradient norm per layer",
                      "mean |dL/dw| per step", true);
  html += layer_chart(d.history, "update_ratio", "chart-update-ratio", "Update / weight ratio per layer",
                      "|step| / |w| (healthy ~1e-3)", true);
  html += layer_chart(d.history, "dead_fraction", "chart-dead-units", "Dead ReLU units per layer",
                      "fraction never active", false);
  html += layer_chart(d.history, "act_std", "chart-activations", "Activation spread per layer", "std of outputs", false);
  html += "</div>\n";
  return html;
}

}  // namespace

std::string render_report(const ReportData& d) {
  const auto& h = d.history;
  std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
)";
  html += fmt::format("<title>{}</title>\n", escape_xml(d.title));
  html += R"(<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { padding: 3px 10px; text-align: left; border-bottom: 1px solid #eee; }
td { font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; } .chart { border: 1px solid #eee; background: #fff; max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 0.85em; }
</style></head><body>
)";
  html += fmt::format("<h1>{}</h1>\n<table class=\"facts\" id=\"summary\">\n", escape_xml(d.title));
  for (const auto& [k, v] : d.facts) html += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape_xml(k), escape_xml(v));
  html += "</table>\n<h2>Training</h2>\n<div class=\"charts\">\n";
  html += metric_chart(h, "loss", "Loss per epoch", false);
  for (const char* key : {"accuracy", "mae", "rmse", "r2"}) html += metric_chart(h, key, std::string(key) + " per epoch");
  html += lr_chart(h);
  html += step_chart(h);
  html += "</div>\n";
  html += diagnostics_section(d);

  // The epochs as a table too: exact numbers next to the pictures (without the per-layer
  // statistics, which are in metrics.csv and the charts above).
  auto keys = h.keys();
  std::erase_if(keys, is_layer_key);
  html += "<h2>Epochs</h2>\n<table class=\"epochs\"><tr>";
  for (const auto& k : keys) html += fmt::format("<th>{}</th>", escape_xml(k));
  html += "</tr>\n";
  for (const auto& row : h.epochs) {
    html += "<tr>";
    for (const auto& k : keys) {
      auto it = row.find(k);
      if (it == row.end()) html += "<td></td>";
      else if (k == "epoch") html += fmt::format("<td>{}</td>", static_cast<long long>(it->second));
      else if (k == "lr") html += fmt::format("<td>{:.3g}</td>", it->second);
      else html += fmt::format("<td>{}</td>", format_value(it->second));
    }
    html += "</tr>\n";
  }
  html += "</table>\n";
  if (!h.stop_reason.empty()) html += fmt::format("<p>Stopped: {}.</p>\n", escape_xml(h.stop_reason));

  html += evaluation_section(d);
  html += fmt::format("<h2>Model</h2>\n<pre>{}</pre>\n", escape_xml(d.model_summary));
  std::string config = d.config_json;
  auto parsed = nlohmann::json::parse(config, nullptr, false);
  if (!parsed.is_discarded()) config = parsed.dump(2);
  html += fmt::format("<h2>Configuration</h2>\n<pre>{}</pre>\n", escape_xml(config));
  html += "<p><small>Written by descent.</small></p>\n</body></html>\n";
  return html;
}

}  // namespace descent::cli
