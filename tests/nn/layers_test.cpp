// Layers of descent::nn: gradient checks through the modules (parameters included), behaviour that
// a fixed PyTorch fixture cannot show (Dropout's randomness, BatchNorm's bookkeeping), and the
// errors, which name the layer and the shapes. Values against PyTorch: layers_reference_test.cpp.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "descent/descent.h"
#include "ops/op_check.h"

using namespace descent;
using namespace descent::nn;

namespace {

// gradcheck through module(x) with respect to x and every parameter of the module (the module must
// be float64); x may be a non-contiguous view.
void check_module(Module& module, const Tensor& x, const std::string& what) {
  SCOPED_TRACE(what);
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : module.parameters()) inputs.push_back(p);
  x.requires_grad_();
  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return module(in[0]); }, inputs, {.atol = 1e-6, .rtol = 1e-5});
  EXPECT_TRUE(r.ok) << what << ": " << r.message;
}

// A float64 leaf of the shape, values N(0, scale^2) + shift; with transposed, a transposed view of
// a contiguous [.., n, m] tensor.
Tensor input(const Shape& shape, std::uint64_t seed, bool transposed = false, double scale = 1.0, double shift = 0.0) {
  Generator g(seed);
  if (!transposed) return add(mul(randn(shape, g, kFloat64), scale), shift).detach();
  Shape storage = shape;
  std::swap(storage[storage.size() - 2], storage[storage.size() - 1]);
  return add(mul(randn(storage, g, kFloat64), scale), shift).detach().transpose(-2, -1);
}

// Like input(), with values of random sign and magnitude in [0.2, 2]: away from a kink at 0.
Tensor away_input(const Shape& shape, std::uint64_t seed, bool transposed = false) {
  Generator g(seed);
  Shape storage = shape;
  if (transposed) std::swap(storage[storage.size() - 2], storage[storage.size() - 1]);
  Tensor t = empty(storage, kFloat64);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const double magnitude = 0.2 + 1.8 * g.uniform();
    t.set_flat(i, g.uniform() < 0.5 ? -magnitude : magnitude);
  }
  return transposed ? t.transpose(-2, -1) : t;
}

double mean_of(const Tensor& t) { return mean(t).item(); }

}  // namespace

// --- gradient checks through modules ----------------------------------------------------------------

TEST(LayerGrad, Linear) {
  Linear fc({.in_features = 3, .out_features = 4, .dtype = kFloat64});
  check_module(fc, input({5, 3}, 1), "Linear 2-D");
  check_module(fc, input({2, 3, 3}, 2), "Linear 3-D");
  check_module(fc, input({5, 3}, 3, true), "Linear transposed input");
  check_module(fc, input({2, 4, 3}, 4, true), "Linear 3-D transposed input");
  check_module(fc, input({3}, 5), "Linear 1-D");
  Linear no_bias({.in_features = 3, .out_features = 2, .bias = false, .dtype = kFloat64});
  check_module(no_bias, input({4, 3}, 6), "Linear without bias");
  check_module(no_bias, input({2, 4, 3}, 7, true), "Linear without bias, transposed 3-D input");
}

TEST(LayerGrad, BatchNorm1d) {
  for (bool affine : {true, false}) {
    BatchNorm1d bn({.num_features = 3, .affine = affine, .dtype = kFloat64});
    if (affine) {
      init::uniform_(bn.weight(), 0.5, 1.5);
      init::normal_(bn.bias());
    }
    check_module(bn, input({5, 3}, 10, false, 2.0, 1.0), affine ? "BatchNorm1d [N, C]" : "BatchNorm1d [N, C], no affine");
    check_module(bn, input({3, 3, 4}, 11, false, 1.5), "BatchNorm1d [N, C, L]");
    check_module(bn, input({6, 3}, 12, true), "BatchNorm1d transposed input");
    // Evaluation mode: the running statistics are constants.
    bn.eval();
    check_module(bn, input({4, 3}, 13), "BatchNorm1d eval");
    check_module(bn, input({2, 3, 2}, 14), "BatchNorm1d eval [N, C, L]");
    bn.train();
  }
}

TEST(LayerGrad, LayerNorm) {
  LayerNorm ln({.normalized_shape = {4}, .dtype = kFloat64});
  init::uniform_(ln.weight(), 0.5, 1.5);
  init::normal_(ln.bias());
  check_module(ln, input({3, 4}, 20, false, 2.0, 1.0), "LayerNorm last dim");
  check_module(ln, input({2, 3, 4}, 21), "LayerNorm 3-D");
  check_module(ln, input({3, 4}, 22, true), "LayerNorm transposed input");
  LayerNorm ln2({.normalized_shape = {2, 3}, .elementwise_affine = true, .bias = false, .dtype = kFloat64});
  init::uniform_(ln2.weight(), 0.5, 1.5);
  check_module(ln2, input({4, 2, 3}, 23), "LayerNorm two dims, no bias");
  LayerNorm plain({.normalized_shape = {5}, .elementwise_affine = false, .dtype = kFloat64});
  check_module(plain, input({2, 5}, 24), "LayerNorm without affine");
}

TEST(LayerGrad, PReLU) {
  // Inputs away from the kink at 0.
  const auto away = [](const Shape& shape, std::uint64_t seed, bool transposed = false) {
    return away_input(shape, seed, transposed);
  };
  PReLU shared({.dtype = kFloat64});
  check_module(shared, away({3, 4}, 30), "PReLU one slope");
  check_module(shared, away({2, 3, 4}, 31), "PReLU one slope 3-D");
  PReLU per_channel({.num_parameters = 3, .dtype = kFloat64});
  init::uniform_(per_channel.weight(), -0.5, 0.5);
  check_module(per_channel, away({4, 3}, 32), "PReLU per channel");
  check_module(per_channel, away({2, 3, 4}, 33, true), "PReLU per channel, transposed 3-D input");
}

TEST(LayerGrad, SequentialMlp) {
  manual_seed(5);
  Sequential mlp(Linear({.in_features = 3, .out_features = 5}), Tanh(), BatchNorm1d({.num_features = 5}), GELU(),
                 Linear({.in_features = 5, .out_features = 2}), LogSoftmax({.dim = 1}));
  mlp.to(kFloat64);
  check_module(mlp, input({6, 3}, 40), "MLP");
}

// --- Linear ---------------------------------------------------------------------------------------------

TEST(LinearLayer, ShapeAndDTypeErrorsNameTheLayer) {
  Linear fc({.in_features = 784, .out_features = 128});
  EXPECT_THROW_WITH(fc(zeros({32, 100})), ShapeError,
                    "Linear(in_features=784, out_features=128, bias=true): input of shape [32, 100] has 100 features, "
                    "expected 784");
  EXPECT_THROW_WITH(fc(scalar_tensor(1.0)), ShapeError, "Linear(in_features=784", "[]");
  EXPECT_THROW_WITH(fc(zeros({2, 784}, kFloat64)), DTypeError, "Linear(in_features=784", "float64", "float32");
  EXPECT_THROW_WITH(Linear({.in_features = -1, .out_features = 2}), ValueError, "Linear", "-1");
  EXPECT_THROW_WITH(Linear({.in_features = 1, .out_features = 2, .dtype = kInt64}), DTypeError, "Linear", "int64");
}

TEST(LinearLayer, ShapesAndParameters) {
  Linear fc({.in_features = 4, .out_features = 3});
  EXPECT_EQ(fc.weight().shape(), (Shape{3, 4}));
  EXPECT_EQ(fc.bias().shape(), (Shape{3}));
  EXPECT_EQ(fc(zeros({2, 5, 4})).shape(), (Shape{2, 5, 3}));
  EXPECT_EQ(fc(zeros({4})).shape(), (Shape{3}));
  Linear no_bias({.in_features = 4, .out_features = 3, .bias = false});
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(no_bias.parameters().size(), 1u);
  // reset_parameters from a given generator is reproducible.
  Generator g1(9), g2(9);
  fc.reset_parameters(g1);
  const std::vector<double> w = fc.weight().to_vector<double>();
  fc.reset_parameters(g2);
  EXPECT_EQ(fc.weight().to_vector<double>(), w);
  Generator g3(9);
  Linear other({.in_features = 4, .out_features = 3}, g3);
  EXPECT_EQ(other.weight().to_vector<double>(), w);
}

// --- Flatten, Identity, activations ------------------------------------------------------------------

TEST(FlattenLayer, ShapesAndErrors) {
  EXPECT_EQ(Flatten()(zeros({2, 3, 4, 5})).shape(), (Shape{2, 60}));
  EXPECT_EQ(Flatten({.start_dim = 0})(zeros({2, 3, 4})).shape(), (Shape{24}));
  EXPECT_EQ(Flatten({.start_dim = 1, .end_dim = 2})(zeros({2, 3, 4, 5})).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(Flatten({.start_dim = -2})(zeros({2, 3, 4})).shape(), (Shape{2, 12}));
  // A 0-d input counts as 1-D (PyTorch's dim wrapping) and becomes [1].
  EXPECT_EQ(Flatten({.start_dim = 0})(scalar_tensor(3.0)).shape(), (Shape{1}));
  EXPECT_EQ(Flatten({.start_dim = -1})(scalar_tensor(3.0)).shape(), (Shape{1}));
  EXPECT_THROW_WITH(Flatten()(scalar_tensor(3.0)), ShapeError, "Flatten", "[]");
  EXPECT_THROW_WITH(Flatten()(zeros({2})), ShapeError, "Flatten(start_dim=1, end_dim=-1)", "[2]", "[-1, 0]");
  // A view of a contiguous input.
  const Tensor x = zeros({2, 3, 4});
  EXPECT_EQ(Flatten()(x).impl()->storage, x.impl()->storage);
  EXPECT_THROW_WITH(Flatten({.start_dim = 3})(zeros({2, 3})), ShapeError, "Flatten(start_dim=3, end_dim=-1)",
                    "[2, 3]");
  EXPECT_THROW_WITH(Flatten({.start_dim = 2, .end_dim = 1})(zeros({2, 3, 4})), ShapeError, "Flatten", "[2, 3, 4]",
                    "start_dim");
}

TEST(ActivationLayers, MatchTheFunctions) {
  Generator g(3);
  const Tensor x = randn({3, 4}, g);
  const auto same = [](const Tensor& a, const Tensor& b) { return a.to_vector<double>() == b.to_vector<double>(); };
  EXPECT_TRUE(same(ReLU()(x), relu(x)));
  EXPECT_TRUE(same(LeakyReLU({.negative_slope = 0.3})(x), leaky_relu(x, 0.3)));
  EXPECT_TRUE(same(ELU({.alpha = 0.7})(x), elu(x, 0.7)));
  EXPECT_TRUE(same(GELU()(x), gelu(x)));
  EXPECT_TRUE(same(GELU({.approximate = "tanh"})(x), gelu(x, "tanh")));
  EXPECT_TRUE(same(Sigmoid()(x), sigmoid(x)));
  EXPECT_TRUE(same(Tanh()(x), tanh(x)));
  EXPECT_TRUE(same(Softmax({.dim = 0})(x), softmax(x, 0)));
  EXPECT_TRUE(same(LogSoftmax({.dim = 1})(x), log_softmax(x, 1)));
  EXPECT_TRUE(same(PReLU({.init = 0.1})(x), leaky_relu(x, 0.1)));
  EXPECT_TRUE(Identity()(x).is_same(x));
  EXPECT_EQ(PReLU({.num_parameters = 4, .init = 0.5}).weight().to_vector<double>(), std::vector<double>(4, 0.5));
}

TEST(ActivationLayers, Errors) {
  EXPECT_THROW_WITH(Softmax({}), ValueError, "Softmax", "dim");
  EXPECT_THROW_WITH(LogSoftmax({}), ValueError, "LogSoftmax", "dim");
  EXPECT_THROW_WITH(GELU({.approximate = "fast"}), ValueError, "GELU", "fast");
  EXPECT_THROW_WITH(PReLU({.num_parameters = 0}), ValueError, "PReLU", "0");
  PReLU per_channel({.num_parameters = 3});
  EXPECT_THROW_WITH(per_channel(zeros({2, 4})), ShapeError, "PReLU(num_parameters=3)", "[2, 4]", "4 channels");
}

// --- Dropout --------------------------------------------------------------------------------------------

TEST(DropoutLayer, RejectsPOutsideTheUnitInterval) {
  EXPECT_THROW_WITH(Dropout({.p = -0.1}), ValueError, "Dropout", "[0, 1]", "-0.1");
  EXPECT_THROW_WITH(Dropout({.p = 1.5}), ValueError, "Dropout", "1.5");
  EXPECT_THROW_WITH(Dropout({.p = 1.5}, Generator(1)), ValueError, "Dropout", "1.5");
  EXPECT_NO_THROW(Dropout({.p = 0.0}));
  EXPECT_NO_THROW(Dropout({.p = 1.0}));
}

TEST(DropoutLayer, IdentityInEvalModeAndForPZero) {
  Dropout drop({.p = 0.5});
  const Tensor x = ones({10, 10});
  drop.eval();
  EXPECT_TRUE(drop(x).is_same(x));
  Dropout none({.p = 0.0});
  EXPECT_TRUE(none(x).is_same(x));
  Dropout all({.p = 1.0});
  EXPECT_EQ(all(x).to_vector<double>(), std::vector<double>(100, 0.0));
}

TEST(DropoutLayer, ZeroesWithProbabilityPAndScalesTheRest) {
  for (DType dtype : {kFloat32, kFloat64}) {
    for (double p : {0.1, 0.5, 0.8}) {
      Dropout drop({.p = p}, Generator(17));
      Generator g(4);
      const Tensor x = add(rand({400, 500}, g, dtype), 1.0);  // values in [1, 2): never 0
      const Tensor y = drop(x);
      const std::vector<double> xs = x.to_vector<double>(), ys = y.to_vector<double>();
      std::int64_t zeros_count = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        if (ys[i] == 0.0) {
          ++zeros_count;
        } else {
          // Kept elements are scaled by exactly 1 / (1 - p) (up to the dtype's rounding).
          ASSERT_NEAR(ys[i], xs[i] / (1.0 - p), 1e-6 * ys[i]) << "p " << p << " element " << i;
        }
      }
      // The fraction of zeros is p within 5 standard deviations of a binomial count.
      const double n = static_cast<double>(xs.size());
      const double sd = std::sqrt(n * p * (1 - p));
      EXPECT_NEAR(static_cast<double>(zeros_count), n * p, 5 * sd) << "p " << p;
      // The mean is preserved: E[y] = E[x] = 1.5. The sample mean's sd is below 0.01 here.
      EXPECT_NEAR(mean_of(y), mean_of(x), 0.01) << "p " << p;
    }
  }
}

TEST(DropoutLayer, GradientIsTheMask) {
  Dropout drop({.p = 0.25}, Generator(2));
  Tensor x = ones({50, 40}, kFloat64);
  x.requires_grad_();
  const Tensor y = drop(x);
  sum(y).backward();
  // dy/dx = mask / (1 - p): the output itself for x = 1.
  EXPECT_EQ(x.grad().to_vector<double>(), y.to_vector<double>());
}

TEST(DropoutLayer, SameSeedSameMasks) {
  const Tensor x = ones({20, 30});
  // Seeded from the default generator at construction.
  manual_seed(123);
  Dropout a;
  manual_seed(123);
  Dropout b;
  const Tensor ya1 = a(x), ya2 = a(x);
  EXPECT_EQ(ya1.to_vector<double>(), b(x).to_vector<double>());
  EXPECT_EQ(ya2.to_vector<double>(), b(x).to_vector<double>());
  EXPECT_NE(ya1.to_vector<double>(), ya2.to_vector<double>()) << "consecutive masks differ";
  manual_seed(124);
  Dropout c;
  EXPECT_NE(c(x).to_vector<double>(), ya1.to_vector<double>());
  // Given a generator: a copy of it, replayable through generator().
  Generator g(77);
  Dropout d({.p = 0.5}, g), e({.p = 0.5}, g);
  EXPECT_EQ(d(x).to_vector<double>(), e(x).to_vector<double>());
  d.generator().manual_seed(5);
  const Tensor first = d(x);
  d.generator().manual_seed(5);
  EXPECT_EQ(d(x).to_vector<double>(), first.to_vector<double>());
  // Evaluation mode draws nothing.
  const Generator::State state = d.generator().state();
  d.eval();
  d(x);
  EXPECT_EQ(d.generator().state(), state);
}

// --- BatchNorm1d ------------------------------------------------------------------------------------------

TEST(BatchNormLayer, RunningStatisticsUseTheUnbiasedVariance) {
  BatchNorm1d bn({.num_features = 2, .dtype = kFloat64});
  // Channel 0: 1, 2, 3, 6 (mean 3, biased var 3.5, unbiased 14/3); channel 1: 0, 0, 4, 4.
  const Tensor x = tensor({1, 0, 2, 0, 3, 4, 6, 4}, {4, 2}, kFloat64);
  const Tensor y = bn(x);
  EXPECT_NEAR(bn.running_mean().at({0}), 0.1 * 3.0, 1e-15);
  EXPECT_NEAR(bn.running_mean().at({1}), 0.1 * 2.0, 1e-15);
  EXPECT_NEAR(bn.running_var().at({0}), 0.9 + 0.1 * 14.0 / 3.0, 1e-15);
  EXPECT_NEAR(bn.running_var().at({1}), 0.9 + 0.1 * 16.0 / 3.0, 1e-15);
  EXPECT_EQ(bn.num_batches_tracked().item(), 1.0);
  EXPECT_EQ(bn.num_batches_tracked().dtype(), kInt64);
  // The output is normalized with the biased variance.
  EXPECT_NEAR(y.at({0, 0}), (1.0 - 3.0) / std::sqrt(3.5 + 1e-5), 1e-12);
  // Evaluation: running statistics, no update.
  bn.eval();
  const Tensor z = bn(x);
  EXPECT_NEAR(z.at({0, 0}), (1.0 - 0.3) / std::sqrt(0.9 + 0.1 * 14.0 / 3.0 + 1e-5), 1e-12);
  EXPECT_EQ(bn.num_batches_tracked().item(), 1.0);
  EXPECT_NO_THROW(bn(zeros({1, 2}, kFloat64))) << "one sample is fine in evaluation mode";
  bn.reset_running_stats();
  EXPECT_EQ(bn.running_mean().to_vector<double>(), (std::vector<double>{0, 0}));
  EXPECT_EQ(bn.running_var().to_vector<double>(), (std::vector<double>{1, 1}));
  EXPECT_EQ(bn.num_batches_tracked().item(), 0.0);
}

TEST(BatchNormLayer, CumulativeAverageWithoutMomentum) {
  BatchNorm1d bn({.num_features = 1, .momentum = std::nullopt, .affine = false, .dtype = kFloat64});
  bn(tensor({1, 3}, {2, 1}, kFloat64));   // mean 2
  bn(tensor({5, 7}, {2, 1}, kFloat64));   // mean 6
  bn(tensor({-1, 1}, {2, 1}, kFloat64));  // mean 0
  EXPECT_NEAR(bn.running_mean().item(), (2.0 + 6.0 + 0.0) / 3.0, 1e-15);
  // Unbiased variances 2, 2, 2 averaged with the initial 1 dropped by the first factor 1/1.
  EXPECT_NEAR(bn.running_var().item(), 2.0, 1e-15);
}

TEST(BatchNormLayer, WithoutRunningStatistics) {
  BatchNorm1d bn({.num_features = 2, .track_running_stats = false, .dtype = kFloat64});
  EXPECT_TRUE(bn.buffers().empty());
  bn.eval();
  // Batch statistics in evaluation mode too.
  const Tensor y = bn(tensor({1, 2, 3, 4}, {2, 2}, kFloat64));
  EXPECT_NEAR(y.at({0, 0}), -1.0 / std::sqrt(1.0 + 1e-5), 1e-12);
}

TEST(BatchNormLayer, Errors) {
  BatchNorm1d bn({.num_features = 4});
  EXPECT_THROW_WITH(bn(zeros({8, 3})), ShapeError, "BatchNorm1d(4, eps=1e-05", "[8, 3]", "[N, 4]");
  EXPECT_THROW_WITH(bn(zeros({4})), ShapeError, "BatchNorm1d(4", "[4]");
  EXPECT_THROW_WITH(bn(zeros({2, 4, 3, 1})), ShapeError, "BatchNorm1d(4", "[2, 4, 3, 1]");
  EXPECT_THROW_WITH(bn(zeros({1, 4})), ValueError, "BatchNorm1d(4", "more than 1 value per channel", "[1, 4]");
  EXPECT_THROW_WITH(bn(zeros({2, 4}, kFloat64)), DTypeError, "BatchNorm1d(4", "float64");
  EXPECT_THROW_WITH(BatchNorm1d({.num_features = 0}), ValueError, "BatchNorm1d", "num_features");
  EXPECT_EQ(bn(zeros({1, 4, 2})).shape(), (Shape{1, 4, 2})) << "N * L = 2 values per channel";
}

// --- LayerNorm ----------------------------------------------------------------------------------------------

TEST(LayerNormLayer, NormalizesTheTrailingDims) {
  LayerNorm ln({.normalized_shape = {2, 3}, .dtype = kFloat64});
  Generator g(8);
  const Tensor x = randn({4, 2, 3}, g, kFloat64);
  const Tensor y = ln(x);
  // Each [2, 3] group has mean 0 and (biased) variance 1 / (1 + eps / var).
  const Tensor m = mean(y, {1, 2});
  const Tensor v = var(y, {1, 2}, 0.0);
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(m.at({i}), 0.0, 1e-12);
    EXPECT_NEAR(v.at({i}), 1.0, 1e-4);
  }
  EXPECT_EQ(ln.parameters().size(), 2u);
}

TEST(LayerNormLayer, Errors) {
  LayerNorm ln({.normalized_shape = {3, 4}});
  EXPECT_THROW_WITH(ln(zeros({2, 4, 3})), ShapeError, "LayerNorm([3, 4], eps=1e-05", "[2, 4, 3]", "[3, 4]");
  EXPECT_THROW_WITH(ln(zeros({4})), ShapeError, "LayerNorm", "[4]");
  EXPECT_THROW_WITH(LayerNorm({.normalized_shape = {0}}), ValueError, "LayerNorm", "[0]");
}
