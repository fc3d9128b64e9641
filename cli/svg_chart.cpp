#include "svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace descent::cli {
namespace {

std::string number_label(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.0e}", v);
  return fmt::format("{:.6g}", v);
}

// Ticks of a log axis (positions are log10 of the values): the powers of ten in range, or 1-2-5
// multiples when the range spans less than a decade or two.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> ticks;
  for (double e = std::floor(lo); e <= std::ceil(hi); e += 1) ticks.push_back(e);
  if (ticks.size() >= 4) return ticks;
  ticks.clear();
  for (double e = std::floor(lo); e <= std::ceil(hi); e += 1)
    for (double m : {1.0, 2.0, 5.0}) {
      const double t = e + std::log10(m);
      if (t >= lo - 0.35 && t <= hi + 0.35) ticks.push_back(t);
    }
  return ticks;
}

}  // namespace

std::string escape_xml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (raw <= step) break;
  }
  std::vector<double> ticks;
  // From the last tick at or below lo to the first at or above hi.
  const double first = std::floor(lo / step + 1e-9);
  for (double k = first; ticks.size() < 50; k += 1) {
    const double t = k * step;
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

std::string render_line_chart(const LineChart& chart) {
  const double left = 64, right = 16, top = 32, bottom = 44;
  const double w = chart.width - left - right, h = chart.height - top - bottom;
  auto ok = [&](double y) { return std::isfinite(y) && (!chart.log_y || y > 0); };
  auto ty = [&](double y) { return chart.log_y ? std::log10(y) : y; };

  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : chart.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!ok(s.y[i]) || !std::isfinite(s.x[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, ty(s.y[i]));
      y1 = std::max(y1, ty(s.y[i]));
    }
  // The legend: one row right of the title when it fits there, else rows under the chart (which
  // then grows), so that no entry runs over the title or off the picture.
  constexpr double kCharWidth = 7.6;  // font-size 12, a little wider than DejaVu Sans' average
  const auto entry_width = [&](const Series& s) { return 22 + kCharWidth * static_cast<double>(s.name.size()) + 14; };
  double legend_width = 0;
  for (const auto& s : chart.series) legend_width += entry_width(s);
  const bool legend_inline = legend_width <= w - 8.6 * static_cast<double>(chart.title.size()) - 12;
  std::vector<std::pair<double, double>> legend_at;  // (x, baseline y) of each entry
  double height = chart.height;
  if (legend_inline) {
    double x = left + w;
    for (auto it = chart.series.rbegin(); it != chart.series.rend(); ++it) {
      x -= entry_width(*it);
      legend_at.emplace_back(x, 24);
    }
    std::reverse(legend_at.begin(), legend_at.end());
  } else {
    double x = left, y = chart.height + 8;
    for (const auto& series : chart.series) {
      if (x > left && x + entry_width(series) > left + w) {
        x = left;
        y += 18;
      }
      legend_at.emplace_back(x, y);
      x += entry_width(series);
    }
    height = y + 10;
  }
  std::string svg = fmt::format(
      "<svg id=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\">\n",
      escape_xml(chart.id), chart.width, height, chart.width, height, escape_xml(chart.title));
  svg += fmt::format("<text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n", left, escape_xml(chart.title));
  if (!std::isfinite(x0)) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#888\">no data</text>\n</svg>\n", left + w / 2 - 30, top + h / 2);
    return svg;
  }
  // Epochs and steps are whole numbers: no ticks between them.
  bool integral_x = true;
  for (const auto& s : chart.series)
    for (double x : s.x) integral_x = integral_x && (!std::isfinite(x) || x == std::floor(x));
  auto xt = nice_ticks(x0, x1, 6);
  if (integral_x && xt.size() >= 2 && xt[1] - xt[0] < 1) {
    xt.clear();
    for (double t = std::floor(x0); t <= std::ceil(x1); t += 1) xt.push_back(t);
  }
  const auto yt = chart.log_y ? log_ticks(y0, y1) : nice_ticks(y0, y1, 5);
  const double xa = std::min(x0, xt.front()), xb = std::max(x1, xt.back());
  const double ya = std::min(y0, yt.front()), yb = std::max(y1, yt.back());
  auto px = [&](double x) { return left + (xb > xa ? (x - xa) / (xb - xa) : 0.5) * w; };
  auto py = [&](double y) { return top + h - (yb > ya ? (y - ya) / (yb - ya) : 0.5) * h; };

  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#ccc\"/>\n", left, top, w, h);
  for (double t : yt) {
    if (t < ya - 1e-12 || t > yb + 1e-12) continue;
    const double label = chart.log_y ? std::pow(10.0, t) : t;
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>", left, py(t), left + w, py(t));
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", left - 6, py(t) + 4,
                       number_label(label));
  }
  for (double t : xt) {
    if (t < xa - 1e-12 || t > xb + 1e-12) continue;
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#eee\"/>", px(t), top, px(t), top + h);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n", px(t), top + h + 15,
                       number_label(t));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n", left + w / 2, chart.height - 8,
                     escape_xml(chart.x_label));
  svg += fmt::format("<text x=\"14\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1f})\">{}</text>\n",
                     top + h / 2, top + h / 2, escape_xml(chart.y_label + (chart.log_y ? " (log scale)" : "")));

  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const Series& series = chart.series[i];
    const auto [lx, ly] = legend_at[i];
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}/>", lx, ly - 4,
                       lx + 18, ly - 4, series.color, series.dashed ? " stroke-dasharray=\"5,3\"" : "");
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text>\n", lx + 22, ly, escape_xml(series.name));
  }

  for (const auto& s : chart.series) {
    std::string d;
    bool pen_down = false;
    std::size_t points = 0;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!ok(s.y[i]) || !std::isfinite(s.x[i])) {
        pen_down = false;
        continue;
      }
      d += fmt::format("{}{:.1f},{:.1f} ", pen_down ? "L" : "M", px(s.x[i]), py(ty(s.y[i])));
      pen_down = true;
      ++points;
    }
    if (d.empty()) continue;
    svg += fmt::format("<path class=\"series\" data-name=\"{}\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n",
                       escape_xml(s.name), d, s.color, s.dashed ? " stroke-dasharray=\"5,3\"" : "");
    if (points <= 60)  // markers only where they stay readable
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        if (ok(s.y[i]) && std::isfinite(s.x[i]))
          svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"><title>{}: {} = {}</title></circle>", px(s.x[i]),
                             py(ty(s.y[i])), s.color, escape_xml(s.name), number_label(s.x[i]), fmt::format("{:.6g}", s.y[i]));
    svg += "\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string render_confusion_matrix(const std::string& id, const std::vector<std::string>& labels,
                                    const std::vector<std::vector<std::int64_t>>& counts) {
  const std::size_t n = counts.size();
  const double cell = n <= 10 ? 44 : std::max(14.0, 440.0 / static_cast<double>(n));
  const double left = 130, top = 40;
  const double size = cell * static_cast<double>(n);
  const int width = static_cast<int>(left + size + 20), height = static_cast<int>(top + size + 110);
  std::string svg = fmt::format(
      "<svg id=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"confusion matrix\">\n",
      escape_xml(id), width, height, width, height);
  svg += fmt::format("<text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">Confusion matrix (rows: true class, columns: predicted)</text>\n", 10);
  for (std::size_t r = 0; r < n; ++r) {
    std::int64_t row_total = 0;
    for (auto c : counts[r]) row_total += c;
    const std::string label = r < labels.size() ? labels[r] : std::to_string(r);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n", left - 6,
                       top + cell * (static_cast<double>(r) + 0.5) + 4, escape_xml(label));
    for (std::size_t c = 0; c < n; ++c) {
      const std::int64_t v = c < counts[r].size() ? counts[r][c] : 0;
      const double share = row_total > 0 ? static_cast<double>(v) / static_cast<double>(row_total) : 0;
      // Blue for the diagonal (right), red off it (wrong); the intensity is the share of the row.
      const int shade = static_cast<int>(255 - 200 * share);
      const std::string fill = r == c ? fmt::format("rgb({},{},255)", shade, shade) : fmt::format("rgb(255,{},{})", shade, shade);
      svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" stroke=\"#fff\"><title>true {}, predicted {}: {}</title></rect>",
                         left + cell * static_cast<double>(c), top + cell * static_cast<double>(r), cell, cell, fill, escape_xml(label),
                         escape_xml(c < labels.size() ? labels[c] : std::to_string(c)), v);
      if (cell >= 24)
        svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                           left + cell * (static_cast<double>(c) + 0.5), top + cell * (static_cast<double>(r) + 0.5) + 4, v);
    }
    svg += "\n";
  }
  for (std::size_t c = 0; c < n; ++c) {
    const double x = left + cell * (static_cast<double>(c) + 0.5), y = top + size + 8;
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\" transform=\"rotate(-60 {:.1f} {:.1f})\">{}</text>\n", x, y,
                       x, y, escape_xml(c < labels.size() ? labels[c] : std::to_string(c)));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace descent::cli
