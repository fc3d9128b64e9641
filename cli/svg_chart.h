#pragma once
// Small SVG charts written by hand (a few hundred lines, no dependency): line charts with nice axis
// ticks and a legend, and a heat map for confusion matrices. Self-contained markup, so a report is a
// single HTML file that any browser shows offline.

#include <cstdint>
#include <string>
#include <vector>

namespace descent::cli {

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // NaN or infinite values leave a gap
  std::string color = "#1f77b4";
  bool dashed = false;
};

struct LineChart {
  std::string id;  // the svg element's id (tests and links find charts by it)
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  bool log_y = false;  // a logarithmic y axis (values <= 0 are skipped)
  int width = 640;
  int height = 300;
};

std::string render_line_chart(const LineChart& chart);

/// A matrix of counts as coloured cells with the count written in each; rows = true class,
/// columns = predicted class.
std::string render_confusion_matrix(const std::string& id, const std::vector<std::string>& labels,
                                    const std::vector<std::vector<std::int64_t>>& counts);

/// Escapes &, <, >, " and ' for XML and HTML text and attributes.
std::string escape_xml(const std::string& text);

/// Nice tick positions covering [lo, hi] (steps of 1, 2 or 5 times a power of ten), about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace descent::cli
