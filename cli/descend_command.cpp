#include "descend_command.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <ostream>
#include <sstream>

#include <fmt/format.h>

#include "contour_chart.h"
#include "descent/autograd/grad_mode.h"
#include "descent/core/error.h"
#include "descent/io/atomic_file.h"
#include "descent/optim/optimizers.h"
#include "svg_chart.h"

namespace descent::cli {
namespace {

constexpr std::int64_t kMaxSteps = 1'000'000;
constexpr int kGrid = 128;  // samples per axis for the contour plot
constexpr std::array<const char*, 10> kColors = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                                 "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(sep, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? "" : std::string(s.substr(b, e - b + 1));
}

std::optional<double> to_number(std::string_view s) {
  const std::string t = trim(s);
  double v = 0;
  const char* first = t.data() + (t.starts_with('+') ? 1 : 0);
  const auto [end, ec] = std::from_chars(first, t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// "a,b,..." as exactly `count` finite numbers; ValueError naming the option and the bad part.
std::vector<double> parse_numbers(std::string_view option, std::string_view text, std::size_t count, std::string_view example) {
  const auto parts = split(text, ',');
  if (parts.size() != count)
    throw ValueError(fmt::format("descend: {} '{}': expected {} numbers separated by commas, e.g. {}={}", option, text, count, option, example));
  std::vector<double> v;
  for (const auto& p : parts) {
    auto n = to_number(p);
    if (!n) throw ValueError(fmt::format("descend: {} '{}': '{}' is not a finite number", option, text, trim(p)));
    v.push_back(*n);
  }
  return v;
}

template <typename Opt>
std::unique_ptr<optim::Optimizer> make(const Tensor& p, typename Opt::options_type o = {}) {
  return std::make_unique<Opt>(std::vector<Tensor>{p}, o);
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.4g}", v);
}

struct Run {
  std::string spec;
  double lr = 0;
  DescentPath path;
};

}  // namespace

std::unique_ptr<optim::Optimizer> optimizer_from_spec(std::string_view spec, const Tensor& param) {
  std::vector<std::string> words;
  std::istringstream in{std::string(spec)};
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) throw ValueError("descend: --optimizer '': empty; expected a name and options, e.g. \"adam lr=0.1\"");
  const std::string& name = words[0];
  std::unique_ptr<optim::Optimizer> opt;
  // SGD has no default learning rate in PyTorch; 0.01 as in descent's configurations.
  if (name == "sgd") opt = make<optim::SGD>(param, {.lr = 0.01});
  else if (name == "momentum") opt = make<optim::SGD>(param, {.lr = 0.01, .momentum = 0.9});
  else if (name == "nesterov") opt = make<optim::SGD>(param, {.lr = 0.01, .momentum = 0.9, .nesterov = true});
  else if (name == "adagrad") opt = make<optim::Adagrad>(param);
  else if (name == "adadelta") opt = make<optim::Adadelta>(param);
  else if (name == "rmsprop") opt = make<optim::RMSprop>(param);
  else if (name == "adam") opt = make<optim::Adam>(param);
  else if (name == "adamw") opt = make<optim::AdamW>(param);
  else if (name == "adamax") opt = make<optim::Adamax>(param);
  else if (name == "nadam") opt = make<optim::NAdam>(param);
  else
    throw ValueError(fmt::format("descend: --optimizer '{}': unknown optimizer '{}' (known: sgd, momentum, nesterov, adagrad, adadelta, "
                                 "rmsprop, adam, adamw, adamax, nadam)",
                                 spec, name));

  std::vector<std::pair<std::string, optim::OptionValue>> options;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const auto eq = words[i].find('=');
    if (eq == std::string::npos || eq == 0)
      throw ValueError(fmt::format("descend: --optimizer '{}': '{}' is not key=value (e.g. lr=0.1)", spec, words[i]));
    const std::string key = words[i].substr(0, eq), text = words[i].substr(eq + 1);
    optim::OptionValue value;
    if (text == "true" || text == "false") {
      value = text == "true";
    } else if (text.find(',') != std::string::npos) {
      const auto v = parse_numbers(fmt::format("--optimizer '{}': {}", spec, key), text, 2, "0.9,0.999");
      value = std::pair{v[0], v[1]};
    } else if (auto n = to_number(text)) {
      value = *n;
    } else {
      throw ValueError(fmt::format("descend: --optimizer '{}': {}={}: '{}' is not a number", spec, key, text, text));
    }
    options.emplace_back(key, value);
  }
  // Nesterov is validated against momentum and dampening: set it last, so the order on the command
  // line does not matter.
  std::stable_partition(options.begin(), options.end(), [](const auto& o) { return o.first != "nesterov"; });
  for (const auto& [key, value] : options) {
    try {
      opt->set_option(0, key, value);
    } catch (const Error& e) {
      throw ValueError(fmt::format("descend: --optimizer '{}': {}", spec, e.what()));
    }
  }
  return opt;
}

DescentPath run_descent(const Expression& f, optim::Optimizer& optimizer, const Tensor& param, std::int64_t steps, const Range& box) {
  DescentPath path;
  auto point = [&] { return Point{param.at({0}), param.at({1})}; };
  auto loss_at_current = [&] {
    optimizer.zero_grad();
    Tensor loss = f(param.select(0, 0), param.select(0, 1));
    return loss;
  };
  auto diverged = [&](const std::string& why) {
    path.end = PathEnd::Diverged;
    path.why = why;
    return path;
  };
  path.points.push_back(point());
  for (std::int64_t step = 0;; ++step) {
    Tensor loss = loss_at_current();
    const double value = loss.item();
    path.losses.push_back(value);
    if (!std::isfinite(value)) return diverged(fmt::format("loss is {}", format_number(value)));
    if (step == steps) return path;
    loss.backward();
    const Point before = point();
    optimizer.step();
    ++path.steps;
    const Point now = point();
    if (!std::isfinite(now.x) || !std::isfinite(now.y))
      return diverged(fmt::format("the point became ({}, {})", format_number(now.x), format_number(now.y)));
    path.points.push_back(now);
    if (!box.contains(now)) {
      path.losses.push_back(loss_at_current().item());
      return diverged("left the box 100 times the plotted window");
    }
    // Converged: nothing moves any more (the gradient and the step both vanish).
    const auto g = param.grad().to_vector<double>();
    const double grad_norm = std::hypot(g[0], g[1]), moved = std::hypot(now.x - before.x, now.y - before.y);
    if (grad_norm < 1e-8 && moved < 1e-10 * (1 + std::hypot(now.x, now.y))) {
      path.losses.push_back(loss_at_current().item());
      path.end = PathEnd::Converged;
      return path;
    }
  }
}

int descend_command(const DescendArgs& args, std::ostream& out, std::ostream& err) {
  (void)err;
  if (args.surface && args.expr) throw ValueError("descend: give --surface or --expr, not both");
  // The surface: a built-in one, or the user's formula with generic defaults.
  Surface surface;
  if (args.expr) {
    surface = {.name = "expression",
               .formula = *args.expr,
               .range = {-5, 5, -5, 5},
               .start = {-3, 3},
               .steps = 200,
               .optimizers = {"sgd lr=0.01", "momentum lr=0.01 momentum=0.9", "adam lr=0.1"}};
  } else {
    surface = find_surface(args.surface.value_or("valley"));
  }
  const Expression f = Expression::parse(surface.formula);

  if (args.range) {
    const auto v = parse_numbers("--range", *args.range, 4, "-2,2,-1,3");
    if (!(v[0] < v[1]) || !(v[2] < v[3]))
      throw ValueError(fmt::format("descend: --range '{}': expected xmin < xmax and ymin < ymax", *args.range));
    surface.range = {v[0], v[1], v[2], v[3]};
  }
  if (args.start) {
    const auto v = parse_numbers("--start", *args.start, 2, "-1.5,2");
    surface.start = {v[0], v[1]};
  }
  const Range& r = surface.range;
  if (!r.contains(surface.start))
    throw ValueError(fmt::format("descend: the start ({}, {}) is outside the plotted window [{}, {}] x [{}, {}]; give a --range that contains it",
                                 surface.start.x, surface.start.y, r.x0, r.x1, r.y0, r.y1));
  if (args.steps) {
    if (*args.steps <= 0 || *args.steps > kMaxSteps)
      throw ValueError(fmt::format("descend: --steps {}: expected a number of steps from 1 to {}", *args.steps, kMaxSteps));
    surface.steps = *args.steps;
  }
  const std::vector<std::string> specs = args.optimizers.empty() ? surface.optimizers : args.optimizers;

  // A path that leaves a box 100 times the window (around its centre) is diverging.
  const double cx = (r.x0 + r.x1) / 2, cy = (r.y0 + r.y1) / 2, hx = 50 * (r.x1 - r.x0), hy = 50 * (r.y1 - r.y0);
  const Range box{cx - hx, cx + hx, cy - hy, cy + hy};

  // Build every optimizer first, so a bad spec fails before any work.
  std::vector<Tensor> params;
  std::vector<std::unique_ptr<optim::Optimizer>> optimizers;
  for (const auto& spec : specs) {
    params.push_back(tensor({surface.start.x, surface.start.y}, {2}, kFloat64).requires_grad_());
    optimizers.push_back(optimizer_from_spec(spec, params.back()));
  }
  std::vector<Run> runs;
  for (std::size_t i = 0; i < specs.size(); ++i)
    runs.push_back({.spec = trim(specs[i]), .lr = optimizers[i]->lr(0), .path = run_descent(f, *optimizers[i], params[i], surface.steps, box)});

  // --- the table ---------------------------------------------------------------------------------
  out << fmt::format("surface: {}   f(x, y) = {}\nstart: ({}, {})   steps: {}\n\n", surface.name, surface.formula, surface.start.x, surface.start.y,
                     surface.steps);
  std::size_t name_w = 9;
  for (const auto& run : runs) name_w = std::max(name_w, run.spec.size());
  const bool known = !surface.minima.empty();
  out << fmt::format("{:<{}}  {:>8}  {:>10}  {:>10}  {:>11}  {:>6}  {}\n", "optimizer", name_w, "lr", "final x", "final y", "final loss", "steps",
                     known ? "distance to the nearest minimum" : "");
  std::vector<std::string> notes;
  for (const auto& run : runs) {
    const Point end = run.path.points.back();
    std::string where;
    if (known) {
      const Minimum* best = nullptr;
      double dist = std::numeric_limits<double>::infinity();
      for (const auto& m : surface.minima)
        if (double d = std::hypot(end.x - m.at.x, end.y - m.at.y); d < dist) dist = d, best = &m;
      where = fmt::format("{} from {}({}, {})", format_number(dist), best->label.empty() ? "" : best->label + " ", format_number(best->at.x),
                          format_number(best->at.y));
    }
    if (run.path.end == PathEnd::Diverged) where = fmt::format("diverged at step {}: {}", run.path.steps, run.path.why);
    else if (run.path.end == PathEnd::Converged) where += fmt::format("{}(converged)", where.empty() ? "" : " ");
    notes.push_back(where);
    out << fmt::format("{:<{}}  {:>8}  {:>10}  {:>10}  {:>11}  {:>6}  {}\n", run.spec, name_w, format_number(run.lr), format_number(end.x),
                       format_number(end.y), format_number(run.path.losses.back()), run.path.steps, where);
  }

  // --- the page ------------------------------------------------------------------------------------
  ContourChart contour{.title = fmt::format("f(x, y) = {}", surface.formula), .range = r, .cols = kGrid, .rows = kGrid, .minima = surface.minima};
  {
    std::vector<double> xs, ys;
    for (int row = 0; row < kGrid; ++row)
      for (int c = 0; c < kGrid; ++c) {
        xs.push_back(r.x0 + (r.x1 - r.x0) * c / (kGrid - 1));
        ys.push_back(r.y0 + (r.y1 - r.y0) * row / (kGrid - 1));
      }
    NoGradGuard no_grad;
    const Tensor v = f(tensor(xs, {kGrid, kGrid}, kFloat64), tensor(ys, {kGrid, kGrid}, kFloat64));
    contour.values = v.contiguous().to_vector<double>();
  }
  // The loss per step. Where it stays positive, its log10 on a linear axis: the orders of magnitude
  // (linear convergence is a straight line) with a handful of readable ticks even over 20 decades.
  bool positive = true;
  for (const auto& run : runs)
    for (double v : run.path.losses) positive = positive && (!std::isfinite(v) || v > 0);
  LineChart losses{.id = "losses", .title = "Loss per step", .x_label = "step", .y_label = positive ? "log10 f(x, y)" : "f(x, y)", .series = {}};
  // Wide enough for the title and the legend, which render_line_chart lays out in one row from the right.
  double needed = 80 + 8.0 * static_cast<double>(losses.title.size()) + 24;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string color = kColors[i % kColors.size()];
    contour.paths.push_back({.name = runs[i].spec, .color = color, .points = runs[i].path.points, .diverged = runs[i].path.end == PathEnd::Diverged});
    Series s{.name = runs[i].spec, .x = {}, .y = {}, .color = color};
    for (std::size_t k = 0; k < runs[i].path.losses.size(); ++k) {
      s.x.push_back(static_cast<double>(k));
      s.y.push_back(positive ? std::log10(runs[i].path.losses[k]) : runs[i].path.losses[k]);
    }
    needed += 44 + 7.2 * static_cast<double>(s.name.size());
    losses.series.push_back(std::move(s));
  }
  losses.width = std::max(640, static_cast<int>(needed));

  std::string html = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
)";
  html += fmt::format("<title>descent descend: {}</title>\n", escape_xml(surface.name));
  html += R"(<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { padding: 3px 10px; text-align: left; border-bottom: 1px solid #eee; }
td { font-variant-numeric: tabular-nums; } code { background: #f6f8fa; padding: 0 0.3em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; } .chart { border: 1px solid #eee; background: #fff; max-width: 100%; height: auto; }
</style></head><body>
)";
  html += fmt::format("<h1>Gradient descent on {}</h1>\n", surface.name == "expression" ? "a given surface" : "the " + escape_xml(surface.name) + " surface");
  html += fmt::format("<p><code>f(x, y) = {}</code>, from ({}, {}), {} steps. Each optimizer is descent's own, on a parameter tensor [x, y] "
                      "whose gradient comes from autograd.</p>\n",
                      escape_xml(surface.formula), surface.start.x, surface.start.y, surface.steps);
  if (!surface.lesson.empty()) html += fmt::format("<p class=\"lesson\">{}</p>\n", escape_xml(surface.lesson));
  html += "<div class=\"charts\">\n" + render_contour_chart(contour) + render_line_chart(losses) + "</div>\n";
  html += "<h2>Where each optimizer ended</h2>\n<table id=\"results\"><tr><th>optimizer</th><th>lr</th><th>final x</th><th>final y</th><th>final loss</th><th>steps</th><th>";
  html += known ? "distance to the nearest minimum" : "note";
  html += "</th></tr>\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Point end = runs[i].path.points.back();
    html += fmt::format("<tr><td><span style=\"color:{}\">&#9632;</span> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        kColors[i % kColors.size()], escape_xml(runs[i].spec), format_number(runs[i].lr), format_number(end.x), format_number(end.y),
                        format_number(runs[i].path.losses.back()), runs[i].path.steps, escape_xml(notes[i]));
  }
  html += "</table>\n</body></html>\n";
  io::write_file_atomically(args.output, html);
  out << fmt::format("\nwrote {}\n", args.output);
  return 0;
}

}  // namespace descent::cli
