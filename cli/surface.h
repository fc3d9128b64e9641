#pragma once
// The built-in 2-D cost surfaces of `descent descend`: each is a formula (parsed by Expression,
// so its gradient comes from the same autograd as a user's --expr), its known minima, the window
// to draw, and a default start, step count and set of optimizers chosen so that the default
// picture of that surface teaches something (see docs/descend.md).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace descent::cli {

struct Point {
  double x = 0;
  double y = 0;
};

/// The window [x0, x1] x [y0, y1] a contour plot shows.
struct Range {
  double x0 = -5, x1 = 5, y0 = -5, y1 = 5;
  bool contains(Point p) const { return p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1; }
};

struct Minimum {
  Point at;
  double value = 0;    // f at the minimum
  std::string label = {};  // "global" or "local" where the surface has both, else empty
};

struct Surface {
  std::string name;         // "valley"
  std::string formula;      // an Expression: "0.02*x^2 + 2*y^2"
  std::string lesson = {};  // what the default picture shows, one or two sentences
  Range range;
  Point start;
  std::int64_t steps = 100;
  std::vector<std::string> optimizers = {};  // default --optimizer specs
  std::vector<Minimum> minima = {};     // every local minimum in (and near) the range
};

/// bowl, valley, rosenbrock, himmelblau, two_minima, in that order.
const std::vector<Surface>& builtin_surfaces();

/// The built-in surface of that name; ValueError listing the known names otherwise.
const Surface& find_surface(std::string_view name);

}  // namespace descent::cli
