#pragma once
// A contour plot of a 2-D function as hand-written SVG, with optimizer paths drawn over it:
// filled bands between contour levels (runs of grid cells of one band merged into one rect),
// contour lines by marching squares, known minima, each path as a polyline with start and end
// markers, and a legend. Self-contained markup, for descend.html.

#include <string>
#include <vector>

#include "surface.h"

namespace descent::cli {

struct ContourPath {
  std::string name;
  std::string color;
  std::vector<Point> points;  // finite; may leave the window (clipped when drawn)
  bool diverged = false;      // the end marker becomes a cross
};

struct ContourChart {
  std::string id = "contour";
  std::string title;
  Range range;
  // Samples of f on a grid over the range: values[r * cols + c] = f(x0 + c dx, y0 + r dy) with
  // dx = (x1 - x0) / (cols - 1), dy = (y1 - y0) / (rows - 1); NaN or infinite where undefined.
  int cols = 0;
  int rows = 0;
  std::vector<double> values = {};
  std::vector<Minimum> minima = {};
  std::vector<ContourPath> paths = {};
  int width = 560;  // of the plot area; the height follows the range's aspect ratio (within limits)
};

std::string render_contour_chart(const ContourChart& chart);

/// About `count` contour levels for these values, ascending: evenly spaced between the smallest
/// and largest finite value, or, when most values lie close to the minimum (a narrow valley such as
/// Rosenbrock's: the median is nearer the minimum than a tenth of the span), spaced evenly in
/// log(f - min) so that the valley floor gets lines too.
std::vector<double> contour_levels(const std::vector<double>& values, int count = 16);

/// The part of segment a-b inside the rectangle (Liang-Barsky); false when none is.
bool clip_segment(Point& a, Point& b, const Range& box);

}  // namespace descent::cli
