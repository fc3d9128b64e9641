// k-means clustering trained by mini-batch gradient descent: gradient descent is not only for neural
// networks. The k centroids C [k, d] are one parameter tensor; the loss is the quantization error
//
//   L(C) = 1/b * sum_i min_j |x_i - c_j|^2          (x_i: the b points of a mini-batch)
//
// built from the library's differentiable ops, differentiated by loss.backward() and minimized by
// optim::SGD (or Adam): the same code that trains networks. At the end the result is compared with
// Lloyd's algorithm (the textbook k-means) run from the same k-means++ start, and a page shows the
// points coloured by cluster with the path every centroid took, epoch by epoch. The math: docs/kmeans.md.
//
//   ./build/examples/kmeans                               # 4 Gaussian blobs, 2000 points, SGD
//   ./build/examples/kmeans --optimizer online            # the classic online k-means step sizes
//   ./build/examples/kmeans --csv data.csv --columns x,y --k 3 --out clusters.html
//
// Exit status: 0 when, on the generated blobs, gradient descent ends within 5 % of Lloyd's inertia
// and finds every blob; 1 when it does not; 2 for bad arguments or data.

#include <descent/descent.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace descent;

namespace {

constexpr const char* kUsage =
    "usage: kmeans [--k N] [--epochs N] [--batch N] [--lr X] [--optimizer sgd|adam|online] [--seed N]\n"
    "              [--points N] [--csv FILE [--columns a,b,...]] [--out FILE.html|FILE.svg]";

struct Options {
  std::int64_t k = 4;
  std::int64_t epochs = 30;
  std::int64_t batch = 64;
  double lr = 0.02;
  std::string optimizer = "sgd";
  std::uint64_t seed = 42;
  std::int64_t points = 2000;
  std::string csv;
  std::vector<std::string> columns;
  std::string out = "kmeans.html";
};

// --- arguments ------------------------------------------------------------------------------------

std::int64_t parse_int(const std::string& name, const std::string& text) {
  std::size_t used = 0;
  std::int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw ValueError(name + ": '" + text + "' is not an integer");
  return value;
}

double parse_double(const std::string& name, const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value)) {
    throw ValueError(name + ": '" + text + "' is not a number");
  }
  return value;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) parts.push_back(part);
  return parts;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--help" || name == "-h") {
      std::printf("%s\n", kUsage);
      std::exit(EXIT_SUCCESS);
    }
    if (i + 1 >= argc) throw ValueError(name + " needs a value (or is unknown)\n" + kUsage);
    const std::string value = argv[++i];
    if (name == "--k") o.k = parse_int(name, value);
    else if (name == "--epochs") o.epochs = parse_int(name, value);
    else if (name == "--batch") o.batch = parse_int(name, value);
    else if (name == "--lr") o.lr = parse_double(name, value);
    else if (name == "--optimizer") o.optimizer = value;
    else if (name == "--seed") o.seed = static_cast<std::uint64_t>(parse_int(name, value));
    else if (name == "--points") o.points = parse_int(name, value);
    else if (name == "--csv") o.csv = value;
    else if (name == "--columns") o.columns = split_commas(value);
    else if (name == "--out") o.out = value;
    else throw ValueError("unknown option " + name + "\n" + kUsage);
  }
  if (o.k <= 0) throw ValueError("--k must be at least 1, got " + std::to_string(o.k));
  if (o.epochs <= 0) throw ValueError("--epochs must be at least 1, got " + std::to_string(o.epochs));
  if (o.batch < 0) throw ValueError("--batch must be >= 0 (0: full batch), got " + std::to_string(o.batch));
  if (o.lr <= 0) throw ValueError("--lr must be > 0");
  if (o.points <= 0) throw ValueError("--points must be at least 1");
  if (o.optimizer != "sgd" && o.optimizer != "adam" && o.optimizer != "online") {
    throw ValueError("--optimizer must be sgd, adam or online, got '" + o.optimizer + "'");
  }
  return o;
}

// --- data -----------------------------------------------------------------------------------------

struct Data {
  Tensor x;                                  // float64 [n, d]
  std::vector<std::string> names;            // column names, for the plot's axes
  std::vector<std::array<double, 2>> truth;  // the true blob centres (generated data only)
};

// Four Gaussian blobs of different spreads, the points dealt to them in turn.
Data make_blobs(std::int64_t n, std::uint64_t seed) {
  const std::vector<std::array<double, 2>> centres = {{-5, -4}, {5, -5}, {-4, 5}, {4.5, 4}};
  const std::vector<double> spreads = {0.8, 1.0, 1.2, 0.9};
  Generator gen(seed);
  std::vector<double> values;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t blob = static_cast<std::size_t>(i) % centres.size();
    const auto [z0, z1] = gen.normal_pair();
    values.push_back(centres[blob][0] + spreads[blob] * z0);
    values.push_back(centres[blob][1] + spreads[blob] * z1);
  }
  return {tensor(values, {n, 2}, kFloat64), {"x", "y"}, centres};
}

// Every numeric column of a CSV file (or the ones named): to_tabular rejects a non-numeric value
// with the file, line and column in its message.
Data load_csv(const std::string& path, const std::vector<std::string>& columns) {
  const data::CsvTable table = data::read_csv(path);
  if (table.rows.empty()) throw ValueError(path + ": no data rows");
  const data::TabularData tab = data::to_tabular(table, {.targets = {}, .features = columns});
  return {tab.features.to(kFloat64), tab.feature_names, {}};
}

// --- the quantization error, with the library's differentiable ops ---------------------------------

// |x_i - c_j|^2 for every point and centroid: [b, 1, d] - [1, k, d] broadcasts to [b, k, d].
Tensor squared_distances(const Tensor& x, const Tensor& c) {
  const Tensor diff = x.unsqueeze(1) - c.unsqueeze(0);
  return sum(diff * diff, {2});  // [b, k]
}

// The mean over the points of the squared distance to the nearest centroid. amin passes the
// gradient only to the nearest centroid of each point, so each centroid is pulled by the points it
// owns: dL/dc_j = -2/b * sum over its points of (x_i - c_j).
Tensor quantization_error(const Tensor& x, const Tensor& c) { return mean(amin(squared_distances(x, c), {1})); }

// Inertia (scikit-learn's name): the sum, not the mean, over all points.
double inertia(const Tensor& x, const Tensor& c) {
  NoGradGuard no_grad;
  return sum(amin(squared_distances(x, c), {1})).item();
}

std::vector<std::int64_t> assign(const Tensor& x, const Tensor& c) {
  NoGradGuard no_grad;
  return argmin(squared_distances(x, c), 1).to_vector<std::int64_t>();
}

std::vector<std::int64_t> cluster_sizes(const std::vector<std::int64_t>& labels, std::int64_t k) {
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(k), 0);
  for (const std::int64_t label : labels) ++sizes[static_cast<std::size_t>(label)];
  return sizes;
}

// --- initialization: k-means++ -------------------------------------------------------------------

// The first centroid is a random point; each next one is a point drawn with probability proportional
// to its squared distance from the nearest centroid so far, so the start is spread over the data.
Tensor kmeans_plus_plus(const Tensor& x, std::int64_t k, Generator& gen) {
  const std::int64_t n = x.size(0);
  std::vector<std::int64_t> chosen = {static_cast<std::int64_t>(gen.integer(static_cast<std::uint64_t>(n)))};
  while (static_cast<std::int64_t>(chosen.size()) < k) {
    const Tensor centres = index_select(x, 0, tensor(std::vector<double>(chosen.begin(), chosen.end()),
                                                     {static_cast<std::int64_t>(chosen.size())}, kInt64));
    const std::vector<double> d2 = amin(squared_distances(x, centres), {1}).to_vector<double>();
    double total = 0;
    for (const double v : d2) total += v;
    double target = gen.uniform() * total;
    std::int64_t pick = n - 1;
    for (std::int64_t i = 0; i < n; ++i) {
      target -= d2[static_cast<std::size_t>(i)];
      if (target < 0) { pick = i; break; }
    }
    chosen.push_back(pick);  // a point already chosen has d2 = 0 and cannot be drawn again (unless all are)
  }
  return index_select(x, 0, tensor(std::vector<double>(chosen.begin(), chosen.end()), {k}, kInt64)).contiguous();
}

// --- k-means by gradient descent -------------------------------------------------------------------

struct GradientFit {
  Tensor centroids;           // [k, d]
  std::vector<Tensor> path;   // the centroids at the start and after every epoch
  std::int64_t steps = 0;
};

std::unique_ptr<optim::Optimizer> make_optimizer(const Options& o, const Tensor& c) {
  if (o.optimizer == "adam") return std::make_unique<optim::Adam>(std::vector<Tensor>{c}, optim::AdamOptions{.lr = o.lr});
  // "online" rescales the gradient itself (below) and takes plain steps of lr 1.
  const double lr = o.optimizer == "online" ? 1.0 : o.lr;
  return std::make_unique<optim::SGD>(std::vector<Tensor>{c}, optim::SGDOptions{.lr = lr});
}

// MacQueen's online k-means moves centroid j by (x - c_j) / N_j, N_j being the number of points it
// has been assigned so far (Sculley's mini-batch k-means does the same per batch). The gradient
// step moves it by -lr * dL/dc_j = lr * 2/b * sum(x - c_j), so the online rule is SGD with a
// per-centroid learning rate b / (2 N_j): a step size that decays like 1/t, which is what makes
// stochastic approximation converge. Here it is applied by scaling row j of the gradient.
void scale_to_online_rule(const Tensor& c, const Tensor& batch, std::vector<double>& seen) {
  const std::vector<std::int64_t> sizes = cluster_sizes(assign(batch, c), c.size(0));
  std::vector<double> scale(seen.size());
  for (std::size_t j = 0; j < seen.size(); ++j) {
    seen[j] += static_cast<double>(sizes[j]);
    scale[j] = seen[j] > 0 ? static_cast<double>(batch.size(0)) / (2 * seen[j]) : 0.0;
  }
  NoGradGuard no_grad;
  c.set_grad(c.grad() * tensor(scale, {c.size(0), 1}, kFloat64));
}

GradientFit fit_by_gradient_descent(const Tensor& x, const Tensor& start, const Options& o) {
  GradientFit fit;
  const Tensor c = start.clone().requires_grad_();
  const std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(o, c);
  // The points only, no targets: k-means is unsupervised. Shuffled anew every epoch, from the seed.
  data::DataLoader loader(data::TensorDataset(x), {.batch_size = o.batch, .shuffle = true, .seed = o.seed});
  std::vector<double> seen(static_cast<std::size_t>(o.k), 0.0);

  fit.path.push_back(c.detach().clone());
  std::printf("epoch  batch loss  quantization error (all points)\n");
  for (std::int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    loader.set_epoch(epoch);
    double batch_loss_sum = 0;
    for (const data::Batch& batch : loader) {
      optimizer->zero_grad();
      const Tensor loss = quantization_error(batch.inputs, c);
      loss.backward();
      if (o.optimizer == "online") scale_to_online_rule(c, batch.inputs, seen);
      optimizer->step();
      batch_loss_sum += loss.item();
      ++fit.steps;
    }
    fit.path.push_back(c.detach().clone());
    const double full = inertia(x, c) / static_cast<double>(x.size(0));
    if (!std::isfinite(full)) {
      throw ValueError("the loss is not finite after epoch " + std::to_string(epoch + 1) + ": try a lower --lr");
    }
    std::printf("%5lld  %10.5g  %10.5g\n", static_cast<long long>(epoch + 1),
                batch_loss_sum / static_cast<double>(loader.num_batches()), full);
  }
  fit.centroids = c.detach();
  return fit;
}

// --- Lloyd's algorithm, the reference --------------------------------------------------------------

// Alternate: assign every point to its nearest centroid, move every centroid to the mean of its
// points; stop when no assignment changes. A centroid left without points stays where it is.
Tensor lloyd(const Tensor& x, const Tensor& start, std::int64_t& iterations) {
  const std::int64_t n = x.size(0), d = x.size(1), k = start.size(0);
  Tensor c = start.clone();
  std::vector<std::int64_t> labels;
  for (iterations = 1; iterations <= 1000; ++iterations) {
    const std::vector<std::int64_t> next = assign(x, c);
    if (next == labels) break;
    labels = next;
    std::vector<double> sums(static_cast<std::size_t>(k * d), 0.0), counts(static_cast<std::size_t>(k), 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t j = labels[static_cast<std::size_t>(i)];
      counts[static_cast<std::size_t>(j)] += 1;
      for (std::int64_t m = 0; m < d; ++m) sums[static_cast<std::size_t>(j * d + m)] += x.at({i, m});
    }
    for (std::int64_t j = 0; j < k; ++j) {
      if (counts[static_cast<std::size_t>(j)] == 0) continue;
      for (std::int64_t m = 0; m < d; ++m) {
        c.set({j, m}, sums[static_cast<std::size_t>(j * d + m)] / counts[static_cast<std::size_t>(j)]);
      }
    }
  }
  return c;
}

// --- checks and printing ---------------------------------------------------------------------------

// How many true centres have their own centroid (the nearest, not shared) within `tolerance`.
std::int64_t recovered_blobs(const std::vector<std::array<double, 2>>& truth, const Tensor& c, double tolerance) {
  std::vector<bool> taken(static_cast<std::size_t>(c.size(0)), false);
  std::int64_t found = 0;
  for (const auto& centre : truth) {
    std::int64_t best = -1;
    double best_distance = std::numeric_limits<double>::infinity();
    for (std::int64_t j = 0; j < c.size(0); ++j) {
      const double distance = std::hypot(c.at({j, 0}) - centre[0], c.at({j, 1}) - centre[1]);
      if (distance < best_distance) best_distance = distance, best = j;
    }
    if (best_distance <= tolerance && !taken[static_cast<std::size_t>(best)]) {
      taken[static_cast<std::size_t>(best)] = true;
      ++found;
    }
  }
  return found;
}

void print_centroids(const char* title, const Tensor& c, const std::vector<std::int64_t>& sizes) {
  std::printf("%s\n", title);
  for (std::int64_t j = 0; j < c.size(0); ++j) {
    std::printf("  %2lld: (", static_cast<long long>(j));
    for (std::int64_t m = 0; m < c.size(1); ++m) std::printf("%s%8.4f", m ? ", " : "", c.at({j, m}));
    std::printf(")  %5lld points\n", static_cast<long long>(sizes[static_cast<std::size_t>(j)]));
  }
}

// --- the picture -----------------------------------------------------------------------------------

// A self-contained SVG scatter of the first two columns: points coloured by their gradient-descent
// cluster, each centroid's path (start: hollow circle; one dot per epoch; end: big disc) and Lloyd's
// centroids as black crosses. Axes keep the data's aspect ratio, so distances look like distances.
std::string scatter_svg(const Data& data, const GradientFit& fit, const Tensor& lloyd_c,
                        const std::vector<std::int64_t>& labels) {
  static const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  const bool two_d = data.x.size(1) >= 2;
  auto px = [](const Tensor& t, std::int64_t i) { return t.at({i, 0}); };
  auto py = [&](const Tensor& t, std::int64_t i) { return two_d ? t.at({i, 1}) : 0.0; };
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  auto extend = [&](double a, double b) { x0 = std::min(x0, a), x1 = std::max(x1, a), y0 = std::min(y0, b), y1 = std::max(y1, b); };
  for (std::int64_t i = 0; i < data.x.size(0); ++i) extend(px(data.x, i), py(data.x, i));
  for (const Tensor& c : fit.path)
    for (std::int64_t j = 0; j < c.size(0); ++j) extend(px(c, j), py(c, j));
  const double size = 560, margin = 30, span = std::max({x1 - x0, y1 - y0, 1e-9});
  const double scale = (size - 2 * margin) / span;
  auto sx = [&](double v) { return margin + (v - x0) * scale; };
  auto sy = [&](double v) { return size - margin - (v - y0) * scale; };  // y grows upwards

  std::ostringstream svg;
  svg.precision(5);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << size << "\" height=\"" << size
      << "\" viewBox=\"0 0 " << size << ' ' << size << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (std::int64_t i = 0; i < data.x.size(0); ++i) {
    svg << "<circle cx=\"" << sx(px(data.x, i)) << "\" cy=\"" << sy(py(data.x, i)) << "\" r=\"2\" fill=\""
        << colours[labels[static_cast<std::size_t>(i)] % 10] << "\" fill-opacity=\"0.45\"/>\n";
  }
  for (std::int64_t j = 0; j < fit.centroids.size(0); ++j) {
    svg << "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" points=\"";
    for (const Tensor& c : fit.path) svg << sx(px(c, j)) << ',' << sy(py(c, j)) << ' ';
    svg << "\"/>\n";
    for (const Tensor& c : fit.path) svg << "<circle cx=\"" << sx(px(c, j)) << "\" cy=\"" << sy(py(c, j)) << "\" r=\"2\"/>\n";
    const Tensor& first = fit.path.front();
    svg << "<circle cx=\"" << sx(px(first, j)) << "\" cy=\"" << sy(py(first, j))
        << "\" r=\"6\" fill=\"white\" stroke=\"black\" stroke-width=\"2\"/>\n"
        << "<circle cx=\"" << sx(px(fit.centroids, j)) << "\" cy=\"" << sy(py(fit.centroids, j)) << "\" r=\"9\" fill=\""
        << colours[j % 10] << "\" stroke=\"black\" stroke-width=\"2\"/>\n";
  }
  for (std::int64_t j = 0; j < lloyd_c.size(0); ++j) {
    const double cx = sx(px(lloyd_c, j)), cy = sy(py(lloyd_c, j));
    svg << "<path d=\"M" << cx - 5 << ',' << cy - 5 << "L" << cx + 5 << ',' << cy + 5 << "M" << cx - 5 << ','
        << cy + 5 << "L" << cx + 5 << ',' << cy - 5 << "\" stroke=\"black\" stroke-width=\"2\"/>\n";
  }
  const std::string axes = data.names.empty() ? "" : data.names[0] + (two_d ? " / " + data.names[1] : "");
  svg << "<text x=\"" << margin << "\" y=\"18\">" << axes
      << " - o start, disc: gradient descent, x: Lloyd, line: path per epoch</text>\n</svg>\n";
  return svg.str();
}

void write_picture(const std::string& path, const std::string& svg, const std::string& summary) {
  const bool html = path.size() < 4 || path.substr(path.size() - 4) != ".svg";
  if (!html) return io::write_file_atomically(path, svg);
  io::write_file_atomically(path, "<!doctype html>\n<meta charset=\"utf-8\">\n<title>k-means by gradient descent</title>\n"
                                  "<h1>k-means by gradient descent</h1>\n" + svg + "<pre>" + summary + "</pre>\n");
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse_args(argc, argv);
  const Data data = o.csv.empty() ? make_blobs(o.points, o.seed) : load_csv(o.csv, o.columns);
  const std::int64_t n = data.x.size(0);
  if (o.k > n) throw ValueError("--k " + std::to_string(o.k) + " is more than the " + std::to_string(n) + " points");
  std::printf("%lld points in %lld dimensions, k = %lld, %s, lr %g, batch %lld, %lld epochs\n",
              static_cast<long long>(n), static_cast<long long>(data.x.size(1)), static_cast<long long>(o.k),
              o.optimizer.c_str(), o.optimizer == "online" ? 1.0 : o.lr, static_cast<long long>(o.batch),
              static_cast<long long>(o.epochs));

  Generator gen(o.seed);
  const Tensor start = kmeans_plus_plus(data.x, o.k, gen);
  std::printf("k-means++ start: inertia %.2f\n", inertia(data.x, start));

  const GradientFit fit = fit_by_gradient_descent(data.x, start, o);
  std::int64_t lloyd_iterations = 0;
  const Tensor lloyd_c = lloyd(data.x, start, lloyd_iterations);

  const std::vector<std::int64_t> labels = assign(data.x, fit.centroids);
  const double gd_inertia = inertia(data.x, fit.centroids), lloyd_inertia = inertia(data.x, lloyd_c);
  const double excess = (gd_inertia - lloyd_inertia) / std::max(lloyd_inertia, 1e-12);  // Lloyd's is 0 when k = n
  std::ostringstream summary;
  char line[200];
  std::snprintf(line, sizeof line, "gradient descent: inertia %.2f after %lld steps\nLloyd:            inertia %.2f after %lld iterations\n"
                "gradient descent is %+.2f %% from Lloyd\n", gd_inertia, static_cast<long long>(fit.steps),
                lloyd_inertia, static_cast<long long>(lloyd_iterations), 100 * excess);
  summary << line;
  print_centroids("centroids by gradient descent:", fit.centroids, cluster_sizes(labels, o.k));
  print_centroids("centroids by Lloyd:", lloyd_c, cluster_sizes(assign(data.x, lloyd_c), o.k));

  bool ok = excess <= 0.05;
  if (!data.truth.empty() && o.k == static_cast<std::int64_t>(data.truth.size())) {
    const std::int64_t found = recovered_blobs(data.truth, fit.centroids, 0.5);
    std::snprintf(line, sizeof line, "blobs recovered (a centroid within 0.5 of the true centre): %lld of %zu\n",
                  static_cast<long long>(found), data.truth.size());
    summary << line;
    ok = ok && found == static_cast<std::int64_t>(data.truth.size());
  }
  std::printf("%s", summary.str().c_str());
  write_picture(o.out, scatter_svg(data, fit, lloyd_c, labels), summary.str());
  std::printf("picture: %s\n", o.out.c_str());

  if (!o.csv.empty()) return EXIT_SUCCESS;  // on the user's data a different local minimum is no failure
  std::printf("%s\n", ok ? "OK" : "FAILED: gradient descent did not match Lloyd's k-means");
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const std::exception& e) {  // descent::Error and its kinds: a message that names the cause
  std::fprintf(stderr, "kmeans: %s\n", e.what());
  return 2;
}
