#pragma once
// `descent descend`: runs descent's optimizers on a 2-D cost surface (built in, or a formula) from
// one start, prints a table of where each ended, and writes descend.html: the contour plot with
// every optimizer's path and the loss per step. See docs/descend.md.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "descent/core/tensor.h"
#include "descent/optim/optimizer.h"
#include "expression.h"
#include "surface.h"

namespace descent::cli {

struct DescendArgs {
  std::optional<std::string> surface = {};   // --surface NAME (default: valley, unless --expr)
  std::optional<std::string> expr = {};      // --expr "x^2 + 10*y^2"
  std::vector<std::string> optimizers = {};  // --optimizer "adam lr=0.1" (repeatable; default: the surface's)
  std::optional<std::string> start = {};     // --start x,y
  std::optional<std::int64_t> steps = {};    // --steps N
  std::optional<std::string> range = {};     // --range xmin,xmax,ymin,ymax
  std::string output = "descend.html";  // --output
};

int descend_command(const DescendArgs& args, std::ostream& out, std::ostream& err);

/// An optimizer over the one parameter `param` from a spec "NAME key=value ...": NAME is sgd,
/// momentum (SGD with momentum=0.9), nesterov (SGD with momentum=0.9, nesterov=true), adagrad,
/// adadelta, rmsprop, adam, adamw, adamax or nadam; the keys are PyTorch's option names; values
/// are numbers, true/false, or two numbers a,b for betas. SGD's lr defaults to 0.01, the others'
/// to PyTorch's defaults. ValueError naming the spec for an unknown name or option, or a bad value.
std::unique_ptr<optim::Optimizer> optimizer_from_spec(std::string_view spec, const Tensor& param);

enum class PathEnd { Ran, Converged, Diverged };

struct DescentPath {
  std::vector<Point> points;   // the start, then the point after each step (finite)
  std::vector<double> losses;  // f at each point
  std::int64_t steps = 0;      // steps taken
  PathEnd end = PathEnd::Ran;
  std::string why = {};        // for Diverged: "loss is nan", "left the box ..."
};

/// Runs `steps` steps of `optimizer` on f from param's value (param: a [2] leaf that the optimizer
/// updates; the gradient comes from backward through f). Stops early when the gradient and the step
/// both vanish (Converged), or when the loss or the point is no longer finite or the point leaves
/// `box` (Diverged): never throws for a diverging path.
DescentPath run_descent(const Expression& f, optim::Optimizer& optimizer, const Tensor& param, std::int64_t steps, const Range& box);

}  // namespace descent::cli
