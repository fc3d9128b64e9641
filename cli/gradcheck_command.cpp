// descent gradcheck CONFIG: the analytic gradients of a configured model against central finite
// differences of its training loss, on a few training examples in float64.
#include "gradcheck_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ostream>
#include <random>
#include <set>

#include "config.h"
#include "data_source.h"
#include "descent/autograd/grad_mode.h"
#include "descent/autograd/gradcheck.h"
#include "descent/core/error.h"
#include "descent/core/generator.h"
#include "descent/core/threads.h"
#include "descent/nn/dropout.h"
#include "descent/ops/elementwise.h"
#include "descent/optim/clip.h"
#include "model_builder.h"

namespace descent::cli {
namespace {

// The flat indices to check: all of them, or max_elements distinct ones drawn with Floyd's
// algorithm (a fixed engine, so the same seed picks the same elements everywhere), in order.
std::vector<std::int64_t> elements_to_check(std::int64_t numel, std::int64_t max_elements, std::uint64_t seed) {
  std::vector<std::int64_t> out;
  if (numel <= max_elements) {
    out.resize(static_cast<std::size_t>(numel));
    for (std::int64_t i = 0; i < numel; ++i) out[static_cast<std::size_t>(i)] = i;
    return out;
  }
  std::mt19937_64 engine(seed);
  std::set<std::int64_t> chosen;
  for (std::int64_t j = numel - max_elements; j < numel; ++j) {
    const auto t = static_cast<std::int64_t>(engine() % static_cast<std::uint64_t>(j + 1));
    chosen.insert(chosen.contains(t) ? j : t);
  }
  return {chosen.begin(), chosen.end()};
}

// "[17, 402]" for flat index 13730 of a 256x784 tensor.
std::string multi_index(std::int64_t flat, const Shape& shape) {
  if (shape.empty()) return "[]";
  std::vector<std::int64_t> index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

std::string shape_text(const Shape& shape) {
  return shape.empty() ? "scalar" : fmt::format("{}", fmt::join(shape, "x"));
}

double scalar_loss(const std::function<Tensor()>& loss) { return loss().item(); }

}  // namespace

bool GradcheckReport::ok() const {
  return std::all_of(parameters.begin(), parameters.end(), [](const ParameterCheck& p) { return p.ok(); });
}

std::int64_t GradcheckReport::checked() const {
  std::int64_t n = 0;
  for (const ParameterCheck& p : parameters) n += p.checked;
  return n;
}

GradcheckReport check_parameter_gradients(const std::function<Tensor()>& loss,
                                          const std::vector<std::pair<std::string, Tensor>>& parameters,
                                          const ParameterGradcheckOptions& options) {
  if (!(options.eps > 0) || !std::isfinite(options.eps))
    throw ValueError(fmt::format("gradcheck: eps must be > 0, got {}", options.eps));
  if (!(options.atol >= 0) || !(options.rtol >= 0))
    throw ValueError(
        fmt::format("gradcheck: atol and rtol must be >= 0, got atol {} and rtol {}", options.atol, options.rtol));
  if (options.max_elements <= 0)
    throw ValueError(fmt::format("gradcheck: the elements per tensor must be > 0, got {}", options.max_elements));
  if (parameters.empty()) throw ValueError("gradcheck: the model has no parameters to check");
  for (const auto& [name, p] : parameters) {
    if (!p.defined()) throw ValueError(fmt::format("gradcheck: parameter {} is undefined", name));
    if (p.dtype() != kFloat64)
      throw DTypeError(fmt::format("gradcheck: parameter {} has dtype {}; finite differences need float64", name,
                                   dtype_name(p.dtype())));
    if (!p.requires_grad() || !p.is_leaf())
      throw ValueError(fmt::format("gradcheck: parameter {} must be a leaf that requires grad", name));
  }

  // Analytic: one backward pass.
  for (const auto& [name, p] : parameters) p.set_grad(Tensor());
  GradcheckReport report;
  {
    const Tensor value = loss();
    if (!value.defined() || value.numel() != 1)
      throw ValueError(fmt::format("gradcheck: the loss must be a scalar, got shape [{}]",
                                   value.defined() ? fmt::format("{}", fmt::join(value.shape(), ", ")) : "undefined"));
    if (value.dtype() != kFloat64)
      throw DTypeError(
          fmt::format("gradcheck: the loss has dtype {}; finite differences need float64", dtype_name(value.dtype())));
    report.loss = value.item();
    if (value.requires_grad()) value.backward();
  }

  // Numeric: central differences, one element at a time, without recording a graph.
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < parameters.size(); ++k) {
    const auto& [name, p] = parameters[k];
    const Tensor analytic = p.grad();
    ParameterCheck check{.name = name, .shape = p.shape()};
    double worst_ratio = -1;
    for (const std::int64_t i :
         elements_to_check(p.numel(), options.max_elements, options.seed + 0x9E3779B97F4A7C15ULL * (k + 1))) {
      const double numeric = central_difference(p, i, options.eps, [&] { return scalar_loss(loss); });
      const double a = analytic.defined() ? analytic.flat(i) : 0.0;
      const double abs_error = std::abs(a - numeric);
      const double rel_error = abs_error / std::max({std::abs(a), std::abs(numeric), options.atol, 1e-300});
      const double allowed = options.atol + options.rtol * std::abs(numeric);
      // How far along the tolerance the error is (> 1: fails); NaN anywhere fails.
      const double ratio = std::isfinite(abs_error) ? abs_error / std::max(allowed, 1e-300) : INFINITY;
      ++check.checked;
      if (!(ratio <= 1)) ++check.failures;
      check.max_abs_error = std::max(check.max_abs_error, std::isnan(abs_error) ? INFINITY : abs_error);
      check.max_rel_error = std::max(check.max_rel_error, std::isnan(rel_error) ? INFINITY : rel_error);
      if (ratio > worst_ratio) {
        worst_ratio = ratio;
        check.worst_index = i;
        check.worst_analytic = a;
        check.worst_numeric = numeric;
      }
    }
    report.parameters.push_back(std::move(check));
  }
  return report;
}

std::string format_gradcheck_report(const GradcheckReport& report, const ParameterGradcheckOptions& options) {
  std::vector<std::vector<std::string>> rows = {
      {"parameter", "shape", "checked", "max abs err", "max rel err", "worst element", "analytic", "numeric", ""}};
  std::int64_t numel_total = 0;
  for (const ParameterCheck& p : report.parameters) {
    std::int64_t numel = 1;
    for (const auto d : p.shape) numel *= d;
    numel_total += numel;
    rows.push_back({p.name, shape_text(p.shape),
                    p.checked == numel ? fmt::format("all {}", numel) : fmt::format("{} of {}", p.checked, numel),
                    fmt::format("{:.2e}", p.max_abs_error), fmt::format("{:.2e}", p.max_rel_error),
                    multi_index(p.worst_index, p.shape), fmt::format("{:.6e}", p.worst_analytic),
                    fmt::format("{:.6e}", p.worst_numeric),
                    p.ok() ? "ok" : fmt::format("FAIL ({} of {})", p.failures, p.checked)});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string text;
  for (const auto& row : rows) {
    std::string line = "  ";
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool right = c >= 2 && c != 5 && c + 1 < row.size();  // numbers right-aligned
      line += right ? fmt::format("{:>{}}", row[c], width[c]) : fmt::format("{:<{}}", row[c], width[c]);
      if (c + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  const std::string criterion =
      fmt::format("|analytic - numeric| <= {:g} + {:g} * |numeric|", options.atol, options.rtol);
  if (report.ok()) {
    text += fmt::format("PASS: {} gradient elements in {} tensors ({} parameters) agree: {}\n", report.checked(),
                        report.parameters.size(), numel_total, criterion);
  } else {
    std::vector<std::string> failed;
    for (const ParameterCheck& p : report.parameters)
      if (!p.ok()) failed.push_back(fmt::format("{} ({} of {} elements)", p.name, p.failures, p.checked));
    text += fmt::format("FAIL: {} of {} tensors have gradients outside {}: {}\n", failed.size(),
                        report.parameters.size(), criterion, fmt::join(failed, ", "));
  }
  return text;
}

int gradcheck_command(const GradcheckArgs& args, std::ostream& out, std::ostream& /*err*/) {
  const auto t_start = std::chrono::steady_clock::now();
  if (args.batch <= 0) throw ValueError(fmt::format("--batch must be > 0, got {}", args.batch));
  if (!(args.eps > 0) || !std::isfinite(args.eps)) throw ValueError(fmt::format("--eps must be > 0, got {}", args.eps));
  if (!(args.atol >= 0)) throw ValueError(fmt::format("--atol must be >= 0, got {}", args.atol));
  if (!(args.rtol >= 0)) throw ValueError(fmt::format("--rtol must be >= 0, got {}", args.rtol));
  if (args.elements <= 0) throw ValueError(fmt::format("--elements must be > 0, got {}", args.elements));

  std::vector<std::string> overrides = args.overrides;
  if (args.seed) overrides.push_back(fmt::format("seed={}", *args.seed));  // everything the seed drives, as train
  const Config config = Config::load(args.config, overrides);
  set_num_threads(static_cast<int>(config.integer("threads")));
  const auto seed = static_cast<std::uint64_t>(config.integer("seed"));
  manual_seed(seed);

  // Data, model and loss exactly as `descent train` builds them (no augmentation: the batch is fixed).
  const LoadedData data = load_training_data(config);
  BuiltModel built = build_model(config, data.format.spec);
  nn::Module& model = *built.model;
  model.to(kFloat64);
  model.train(!args.eval);
  const train::LossFunction loss_fn = make_training_loss(config, built.loss, model);

  const std::int64_t n = std::min(args.batch, data.train.size());
  std::vector<std::int64_t> indices(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) indices[static_cast<std::size_t>(i)] = i;
  const data::Batch batch = data.train.get(indices);
  const Tensor inputs = batch.inputs.to(kFloat64);
  const Tensor targets = is_floating(batch.targets.dtype()) ? batch.targets.to(kFloat64) : batch.targets;

  // Dropout draws a new mask at every call: each evaluation of the loss starts its generators from
  // the same state, so every forward pass uses the same masks (the loss is a deterministic function).
  std::vector<std::pair<Generator*, Generator::State>> generators;
  bool has_dropout = false, has_batchnorm = false;
  for (auto& [name, m] : model.named_modules()) {
    if (auto* d = dynamic_cast<nn::Dropout*>(m)) generators.emplace_back(&d->generator(), d->generator().state());
    if (auto* d = dynamic_cast<nn::Dropout2d*>(m)) generators.emplace_back(&d->generator(), d->generator().state());
    if (m->type_name().starts_with("BatchNorm")) has_batchnorm = true;
  }
  has_dropout = !generators.empty();
  const auto loss = [&]() {
    for (auto& [g, state] : generators) g->set_state(state);
    return loss_fn(model(inputs), targets);
  };

  std::int64_t param_count = 0;
  for (const auto& p : model.parameters()) param_count += p.numel();
  std::string mode;
  if (args.eval) {
    mode = "evaluation mode";
    if (has_dropout || has_batchnorm) mode += " (dropout off, batch norm uses its running statistics)";
  } else {
    mode = "training mode";
    std::vector<std::string> notes;
    if (has_dropout) notes.push_back("dropout masks fixed for every evaluation");
    if (has_batchnorm) notes.push_back("batch norm normalizes with the batch's statistics");
    if (!notes.empty()) mode += fmt::format(" ({})", fmt::join(notes, "; "));
  }
  out << fmt::format("descent gradcheck {}: {} ({} parameters), loss {}\n", args.config, fmt::join(built.layers, ", "),
                     param_count, to_string(built.loss));
  out << fmt::format("  {} training example{} of {}, float64, {}, seed {}\n", n, n == 1 ? "" : "s", data.train.size(),
                     mode, seed);
  if (n < args.batch) out << fmt::format("  (--batch {}: the training data has only {} examples)\n", args.batch, n);
  out << fmt::format(
      "  central differences (L(w + eps) - L(w - eps)) / 2 eps with eps {:g}; up to {} elements per tensor\n", args.eps,
      args.elements);
  out.flush();

  const ParameterGradcheckOptions options{
      .eps = args.eps, .atol = args.atol, .rtol = args.rtol, .max_elements = args.elements, .seed = seed};
  const auto t_check = std::chrono::steady_clock::now();
  // Frozen parameters (requires_grad false) have no gradient to check.
  std::vector<std::pair<std::string, Tensor>> parameters;
  for (auto& [name, p] : model.named_parameters())
    if (p.requires_grad()) parameters.emplace_back(name, p);
  const GradcheckReport report = check_parameter_gradients(loss, parameters, options);
  const auto t_end = std::chrono::steady_clock::now();
  out << fmt::format("  loss on the batch: {:.10g}\n", report.loss);
  out << format_gradcheck_report(report, options);
  out << fmt::format("  ({:.1f} s loading the data and building the model, {:.1f} s checking: {} forward passes)\n",
                     std::chrono::duration<double>(t_check - t_start).count(),
                     std::chrono::duration<double>(t_end - t_check).count(), 2 * report.checked() + 1);
  return report.ok() ? 0 : 1;
}

}  // namespace descent::cli
