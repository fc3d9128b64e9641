#include "surface.h"

#include <fmt/format.h>

#include "descent/core/error.h"

namespace descent::cli {

const std::vector<Surface>& builtin_surfaces() {
  // Minima were found by Newton's method to double precision (tests check that the gradient
  // vanishes there). Defaults were chosen by running them: see docs/descend.md for the numbers.
  static const std::vector<Surface> surfaces = {
      {.name = "bowl",
       .formula = "0.25*x^2 + y^2",
       .lesson = "The learning rate on a convex bowl, with curvature 0.5 along x and 2 along y: a gradient step multiplies "
                 "x by 1 - 0.5 lr and y by 1 - 2 lr. At lr 0.1 both shrink smoothly (by 0.95 and 0.8), a slow slide in; "
                 "at 0.9 y changes sign at every step (-0.8): the path overshoots and zigzags across the bowl but still "
                 "converges, faster; at 1.1 each overshoot is larger than the last (-1.2) and the path diverges. Gradient "
                 "descent is stable only for a learning rate below 2 / (the largest curvature) = 1.",
       .range = {-4, 4, -4, 4},
       .start = {-3.5, 2.5},
       .steps = 40,
       .optimizers = {"sgd lr=0.1", "sgd lr=0.9", "sgd lr=1.1"},
       .minima = {{.at = {0, 0}}}},
      {.name = "valley",
       .formula = "0.02*x^2 + 2*y^2",
       .lesson = "An elongated valley, 100 times steeper across than along. Plain gradient descent must keep its rate "
                 "small enough for the steep walls, so it bounces between them and then crawls along the floor; momentum "
                 "accumulates the consistent push along the floor (swinging across it, as a heavy ball does); Adam "
                 "divides each coordinate's step by its own gradient scale, so both directions move at about the same "
                 "speed.",
       .range = {-10, 10, -4, 4},
       .start = {-9, 2},
       .steps = 100,
       .optimizers = {"sgd lr=0.4", "momentum lr=0.1 momentum=0.9", "adam lr=0.3"},
       .minima = {{.at = {0, 0}}}},
      {.name = "rosenbrock",
       .formula = "(1-x)^2 + 100*(y-x^2)^2",
       .lesson = "Rosenbrock's banana: reaching the curved valley floor is easy, following it to the minimum at (1, 1) "
                 "is slow. Plain gradient descent needs a tiny rate to stay stable on the steep walls (at 0.001 its first "
                 "steps still bounce across the valley) and then crawls along the floor; momentum and adaptive methods "
                 "travel much further along it in the same number of steps.",
       .range = {-2, 2, -1, 3},
       .start = {-1.5, 2.5},
       .steps = 1000,
       .optimizers = {"sgd lr=0.001", "momentum lr=0.001 momentum=0.9", "adam lr=0.05", "rmsprop lr=0.01"},
       .minima = {{.at = {1, 1}}}},
      {.name = "himmelblau",
       .formula = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
       .lesson = "Himmelblau's function has four minima of equal value 0. Which one an optimizer reaches depends on its "
                 "path, not only on the start: from (0, -0.6) plain SGD, Adam and RMSprop go to the nearest one, (3, 2), "
                 "while momentum carries past it, turns back and crosses the ridge to (-2.81, 3.13).",
       .range = {-6, 6, -6, 6},
       .start = {0, -0.6},
       .steps = 200,
       .optimizers = {"sgd lr=0.01", "momentum lr=0.01 momentum=0.9", "adam lr=0.1", "rmsprop lr=0.05"},
       .minima = {{.at = {3, 2}},
                  {.at = {-2.805118086952745, 3.131312518250573}},
                  {.at = {-3.779310253377747, -3.283185991286169}},
                  {.at = {3.5844283403304917, -1.8481265269644034}}}},
      {.name = "two_minima",
       .formula = "(x^2 - 1)^2 + 0.3*x + y^2",
       .lesson = "A double well: a local minimum near (0.96, 0) and the global one near (-1.04, 0), with a ridge between "
                 "them. From the same start and learning rate, plain gradient descent settles in the local minimum; "
                 "momentum (heavy ball) carries enough speed over the ridge into the global one. Adam's steps are "
                 "bounded by its learning rate, so at lr 0.1 it too stays in the local minimum.",
       .range = {-2, 2.5, -2, 2},
       .start = {2, 1.5},
       .steps = 200,
       .optimizers = {"sgd lr=0.01", "momentum lr=0.01 momentum=0.9", "adam lr=0.1"},
       .minima = {{.at = {-1.0355787140888537, 0}, .value = -0.305428483743916, .label = "global"},
                  {.at = {0.9601495555191055, 0}, .value = 0.29414648102826285, .label = "local"}}},
  };
  return surfaces;
}

const Surface& find_surface(std::string_view name) {
  std::string known;
  for (const Surface& s : builtin_surfaces()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw ValueError(fmt::format("descend: unknown surface '{}' (known: {}; or give a formula with --expr)", name, known));
}

}  // namespace descent::cli
