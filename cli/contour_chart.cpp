#include "contour_chart.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "svg_chart.h"

namespace descent::cli {
namespace {

// Viridis, lightened towards white so that the paths drawn over the bands stand out.
std::string band_color(int band, int bands) {
  static constexpr std::array<std::array<double, 3>, 5> stops = {
      {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}};
  const double t = bands > 1 ? static_cast<double>(band) / (bands - 1) : 0.5;
  const double s = t * (stops.size() - 1);
  const auto i = std::min<std::size_t>(static_cast<std::size_t>(s), stops.size() - 2);
  const double u = s - static_cast<double>(i);
  std::array<int, 3> rgb{};
  for (int k = 0; k < 3; ++k) {
    const double c = stops[i][k] * (1 - u) + stops[i + 1][k] * u;
    rgb[k] = static_cast<int>(std::lround(c + (255 - c) * 0.55));
  }
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string label(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  return a >= 1e5 || a < 1e-3 ? fmt::format("{:.2e}", v) : fmt::format("{:.4g}", v);
}

// The band of a value: how many levels lie at or below it (0 .. levels.size()); -1 when undefined.
int band_of(double v, const std::vector<double>& levels) {
  if (!std::isfinite(v)) return -1;
  return static_cast<int>(std::upper_bound(levels.begin(), levels.end(), v) - levels.begin());
}

}  // namespace

std::vector<double> contour_levels(const std::vector<double>& values, int count) {
  std::vector<double> v;
  for (double e : values)
    if (std::isfinite(e)) v.push_back(e);
  if (v.empty() || count < 1) return {};
  std::sort(v.begin(), v.end());
  const double lo = v.front(), hi = v.back();
  if (!(hi > lo)) return {lo};
  const double median = v[v.size() / 2];
  std::vector<double> levels;
  if (median - lo < 0.1 * (hi - lo)) {
    // From the 1st percentile of f - min (the valley floor) to the span, evenly in log.
    const double floor = std::max(v[v.size() / 100] - lo, (hi - lo) * 1e-6);
    const double a = std::log(floor), b = std::log(hi - lo);
    for (int i = 0; i < count; ++i) levels.push_back(lo + std::exp(a + (b - a) * i / count));
  } else {
    for (int i = 1; i <= count; ++i) levels.push_back(lo + (hi - lo) * i / (count + 1));
  }
  return levels;
}

bool clip_segment(Point& a, Point& b, const Range& box) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  double t0 = 0, t1 = 1;
  // Each side: p t <= q for the part inside.
  const std::array<std::array<double, 2>, 4> sides = {
      {{-dx, a.x - box.x0}, {dx, box.x1 - a.x}, {-dy, a.y - box.y0}, {dy, box.y1 - a.y}}};
  for (const auto& [p, q] : sides) {
    if (p == 0) {
      if (q < 0) return false;
      continue;
    }
    const double t = q / p;
    if (p < 0) t0 = std::max(t0, t);
    else t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const Point start = a;
  a = {start.x + t0 * dx, start.y + t0 * dy};
  b = {start.x + t1 * dx, start.y + t1 * dy};
  return true;
}

std::string render_contour_chart(const ContourChart& chart) {
  const Range& r = chart.range;
  const double pw = chart.width;
  const double ph = std::clamp(pw * (r.y1 - r.y0) / (r.x1 - r.x0), 0.45 * pw, 1.1 * pw);
  std::size_t longest = 14;  // "known minimum"
  for (const ContourPath& path : chart.paths) longest = std::max(longest, path.name.size() + (path.diverged ? 11 : 0));
  const double left = 56, top = 34, bottom = 44, legend_w = 40 + 7.5 * static_cast<double>(longest);
  const double legend_h = 24.0 * static_cast<double>(chart.paths.size() + 3);
  const double width = left + pw + 20 + legend_w, height = top + std::max(ph, legend_h) + bottom;
  auto px = [&](double x) { return left + (x - r.x0) / (r.x1 - r.x0) * pw; };
  auto py = [&](double y) { return top + ph - (y - r.y0) / (r.y1 - r.y0) * ph; };

  std::string svg = fmt::format(
      "<svg id=\"{}\" class=\"chart contour\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" aria-label=\"{}\">\n",
      escape_xml(chart.id), width, height, width, height, escape_xml(chart.title));
  svg += fmt::format("<text x=\"{}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n", left, escape_xml(chart.title));
  svg += fmt::format("<defs><clipPath id=\"{}-plot\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/></clipPath></defs>\n",
                     escape_xml(chart.id), left, top, pw, ph);
  svg += fmt::format("<g clip-path=\"url(#{}-plot)\">\n", escape_xml(chart.id));

  // Filled bands: each grid sample colours the cell around it; runs of one band in a row are one rect.
  const auto levels = contour_levels(chart.values, 16);
  const int bands = static_cast<int>(levels.size()) + 1;
  const bool grid_ok = chart.cols >= 2 && chart.rows >= 2 && chart.values.size() == static_cast<std::size_t>(chart.cols) * chart.rows;
  const double dx = grid_ok ? (r.x1 - r.x0) / (chart.cols - 1) : 0, dy = grid_ok ? (r.y1 - r.y0) / (chart.rows - 1) : 0;
  auto at = [&](int row, int col) { return chart.values[static_cast<std::size_t>(row) * chart.cols + col]; };
  if (grid_ok) {
    std::vector<std::string> band_paths(bands + 1);  // [0]: undefined values; [b + 1]: band b
    for (int row = 0; row < chart.rows; ++row) {
      const double ya = std::max(r.y0, r.y0 + (row - 0.5) * dy), yb = std::min(r.y1, r.y0 + (row + 0.5) * dy);
      for (int c = 0; c < chart.cols;) {
        const int band = band_of(at(row, c), levels);
        int end = c + 1;
        while (end < chart.cols && band_of(at(row, end), levels) == band) ++end;
        const double xa = std::max(r.x0, r.x0 + (c - 0.5) * dx), xb = std::min(r.x1, r.x0 + (end - 0.5) * dx);
        // A rectangle per run; +0.5 px of overlap hides hairline seams between rows.
        const double w = px(xb) - px(xa) + 0.5, h = py(ya) - py(yb) + 0.5;
        band_paths[band + 1] += fmt::format("M{:.1f},{:.1f}h{:.1f}v{:.1f}h{:.1f}z", px(xa), py(yb), w, h, -w);
        c = end;
      }
    }
    svg += "<g class=\"bands\" shape-rendering=\"crispEdges\">\n";
    for (int b = 0; b <= bands; ++b)
      if (!band_paths[b].empty())
        svg += fmt::format("<path d=\"{}\" fill=\"{}\"/>\n", band_paths[b], b == 0 ? "#d8d8d8" : band_color(b - 1, bands));
    svg += "</g>\n";

    // Contour lines by marching squares. Cell corners: 0 = (row, c), 1 = (row, c+1), 2 = (row+1, c+1),
    // 3 = (row+1, c); edges in order bottom (0-1), right (1-2), top (2-3), left (3-0).
    for (double level : levels) {
      std::string d;
      for (int row = 0; row + 1 < chart.rows; ++row)
        for (int c = 0; c + 1 < chart.cols; ++c) {
          const std::array<double, 4> v = {at(row, c), at(row, c + 1), at(row + 1, c + 1), at(row + 1, c)};
          const std::array<Point, 4> p = {Point{r.x0 + c * dx, r.y0 + row * dy}, Point{r.x0 + (c + 1) * dx, r.y0 + row * dy},
                                          Point{r.x0 + (c + 1) * dx, r.y0 + (row + 1) * dy}, Point{r.x0 + c * dx, r.y0 + (row + 1) * dy}};
          if (!std::all_of(v.begin(), v.end(), [](double e) { return std::isfinite(e); })) continue;
          std::array<Point, 4> cross{};
          std::array<bool, 4> has{};
          int n = 0;
          for (int e = 0; e < 4; ++e) {
            const int a = e, b = (e + 1) % 4;
            if ((v[a] > level) != (v[b] > level)) {
              const double t = (level - v[a]) / (v[b] - v[a]);
              cross[e] = {p[a].x + t * (p[b].x - p[a].x), p[a].y + t * (p[b].y - p[a].y)};
              has[e] = true;
              ++n;
            }
          }
          auto seg = [&](int e, int f) {
            d += fmt::format("M{:.1f},{:.1f}L{:.1f},{:.1f}", px(cross[e].x), py(cross[e].y), px(cross[f].x), py(cross[f].y));
          };
          if (n == 2) {
            int e = 0;
            while (!has[e]) ++e;
            int f = e + 1;
            while (!has[f]) ++f;
            seg(e, f);
          } else if (n == 4) {
            // A saddle: the cell's mean decides whether corner 0 joins corner 2 across the centre.
            const bool centre_high = (v[0] + v[1] + v[2] + v[3]) / 4 > level;
            if (centre_high == (v[0] > level)) seg(0, 1), seg(2, 3);
            else seg(0, 3), seg(1, 2);
          }
        }
      if (!d.empty())
        svg += fmt::format("<path class=\"level\" d=\"{}\" fill=\"none\" stroke=\"#555\" stroke-opacity=\"0.45\" stroke-width=\"0.8\"><title>f = {}</title></path>\n", d,
                           label(level));
    }
  }

  // The paths, clipped to a slightly larger box than the window (the clip-path trims the rest), so
  // that a diverging path far outside does not produce huge coordinates.
  const double mx = (r.x1 - r.x0) * 0.05, my = (r.y1 - r.y0) * 0.05;
  const Range box{r.x0 - mx, r.x1 + mx, r.y0 - my, r.y1 + my};
  for (const ContourPath& path : chart.paths) {
    if (path.points.empty()) continue;
    // At most ~3000 points per path; the last always stays.
    const std::size_t every = (path.points.size() + 2999) / 3000;
    std::vector<Point> pts;
    for (std::size_t i = 0; i < path.points.size(); i += every) pts.push_back(path.points[i]);
    if ((path.points.size() - 1) % every != 0) pts.push_back(path.points.back());
    std::string d;
    bool pen_down = false;
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
      Point a = pts[i], b = pts[i + 1];
      if (!clip_segment(a, b, box)) {
        pen_down = false;
        continue;
      }
      const bool joined = pen_down && a.x == pts[i].x && a.y == pts[i].y;
      if (!joined) d += fmt::format("M{:.1f},{:.1f}", px(a.x), py(a.y));
      d += fmt::format("L{:.1f},{:.1f}", px(b.x), py(b.y));
      pen_down = b.x == pts[i + 1].x && b.y == pts[i + 1].y;
    }
    svg += fmt::format("<g class=\"optimizer\" data-name=\"{}\">", escape_xml(path.name));
    svg += fmt::format("<path class=\"descent-path\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-opacity=\"0.9\"/>",
                       d, path.color);
    if (pts.size() <= 200)  // a dot per step while they stay distinguishable
      for (const Point& q : pts)
        if (r.contains(q)) svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"1.8\" fill=\"{}\"/>", px(q.x), py(q.y), path.color);
    const Point s = path.points.front(), e = path.points.back();
    svg += fmt::format("<circle class=\"start\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"#fff\" stroke=\"{}\" stroke-width=\"2.5\"><title>{} start ({}, {})</title></circle>",
                       px(s.x), py(s.y), path.color, escape_xml(path.name), label(s.x), label(s.y));
    if (r.contains(e)) {
      const std::string title = fmt::format("{} {} ({}, {})", escape_xml(path.name), path.diverged ? "diverged at" : "end", label(e.x), label(e.y));
      if (path.diverged)
        svg += fmt::format("<path class=\"end\" d=\"M{0:.1f},{1:.1f}l10,10m0,-10l-10,10\" stroke=\"{2}\" stroke-width=\"3\"><title>{3}</title></path>",
                           px(e.x) - 5, py(e.y) - 5, path.color, title);
      else
        svg += fmt::format("<circle class=\"end\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1.5\"><title>{}</title></circle>",
                           px(e.x), py(e.y), path.color, title);
    }
    svg += "</g>\n";
  }
  // Known minima, over the paths: a black plus.
  for (const Minimum& m : chart.minima) {
    if (!r.contains(m.at)) continue;
    const std::string what = (m.label.empty() ? "" : m.label + " ") + fmt::format("minimum ({}, {}), f = {}", label(m.at.x), label(m.at.y), label(m.value));
    svg += fmt::format("<path class=\"minimum\" d=\"M{0:.1f},{1:.1f}h12M{2:.1f},{3:.1f}v12\" stroke=\"#000\" stroke-width=\"2.5\"><title>{4}</title></path>\n",
                       px(m.at.x) - 6, py(m.at.y), px(m.at.x), py(m.at.y) - 6, escape_xml(what));
  }

  svg += "</g>\n";

  // Frame, ticks and axis names.
  svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#888\"/>\n", left, top, pw, ph);
  for (double t : nice_ticks(r.x0, r.x1, 8)) {
    if (t < r.x0 - 1e-9 || t > r.x1 + 1e-9) continue;
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#888\"/><text x=\"{0:.1f}\" y=\"{3:.1f}\" font-size=\"11\" text-anchor=\"middle\">{4}</text>\n",
                       px(t), top + ph, top + ph + 5, top + ph + 17, label(t));
  }
  for (double t : nice_ticks(r.y0, r.y1, 6)) {
    if (t < r.y0 - 1e-9 || t > r.y1 + 1e-9) continue;
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#888\"/><text x=\"{3:.1f}\" y=\"{4:.1f}\" font-size=\"11\" text-anchor=\"end\">{5}</text>\n",
                       left - 5, py(t), left, left - 8, py(t) + 4, label(t));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\" text-anchor=\"middle\" font-style=\"italic\">x</text>\n", left + pw / 2, top + ph + 36);
  svg += fmt::format("<text x=\"16\" y=\"{:.1f}\" font-size=\"13\" font-style=\"italic\">y</text>\n", top + ph / 2);

  // Legend, to the right of the plot.
  const double lx = left + pw + 20;
  double ly = top + 10;
  for (const ContourPath& path : chart.paths) {
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"3\"/>", lx, ly, lx + 22, ly, path.color);
    svg += fmt::format("<text class=\"legend\" x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}{}</text>\n", lx + 28, ly + 4, escape_xml(path.name),
                       path.diverged ? " (diverged)" : "");
    ly += 24;
  }
  svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"#fff\" stroke=\"#444\" stroke-width=\"2\"/><text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">start</text>",
                     lx + 11, ly, lx + 28, ly + 4);
  svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4.5\" fill=\"#444\"/><text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">end</text>\n", lx + 86, ly,
                     lx + 96, ly + 4);
  ly += 24;
  if (!chart.minima.empty())
    svg += fmt::format("<path d=\"M{0:.1f},{1:.1f}h12M{2:.1f},{3:.1f}v12\" stroke=\"#000\" stroke-width=\"2.5\"/><text x=\"{4:.1f}\" y=\"{5:.1f}\" font-size=\"12\">known minimum</text>\n",
                       lx + 5, ly, lx + 11, ly - 6, lx + 28, ly + 4);
  svg += "</svg>\n";
  return svg;
}

}  // namespace descent::cli
