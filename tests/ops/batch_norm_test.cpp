// The fused batch_norm op (descent/ops/normalization.h): gradient checks in training and
// evaluation mode, agreement with the same formula composed of mean/var/sub/div ops, the in-place
// running-statistic update, and the errors.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

constexpr const char* kNoScalar = "batch_norm needs an input [N, C, *] with 2 or more dims";

// The per-channel tensor t [C] viewed as [C, 1, ...] to broadcast against an input of `ndim` dims.
Tensor per_channel(const Tensor& t, std::int64_t ndim) {
  Shape shape{t.size(0)};
  for (std::int64_t d = 2; d < ndim; ++d) shape.push_back(1);
  return reshape(t, shape);
}

// batch_norm composed of differentiable ops, as BatchNorm1d was before the fused op; updates
// nothing. mean / var are the batch's (training) or the given running ones.
Tensor composed(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& w,
                const Tensor& b, bool training, double eps) {
  std::vector<std::int64_t> dims{0};
  for (std::int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const Tensor mean = training ? descent::mean(x, dims, true) : per_channel(running_mean, x.dim());
  const Tensor var = training ? descent::var(x, dims, 0.0, true) : per_channel(running_var, x.dim());
  Tensor y = div(sub(x, mean), sqrt(add(var, eps)));
  if (w.defined()) y = mul(y, per_channel(w, x.dim()));
  if (b.defined()) y = add(y, per_channel(b, x.dim()));
  return y;
}

// Largest |a - b| over two tensors of one shape.
double max_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const std::vector<double> u = a.to_vector<double>(), v = b.to_vector<double>();
  double m = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) m = std::max(m, std::abs(u[i] - v[i]));
  return m;
}

Tensor leaf(const Tensor& t) {
  Tensor l = t.detach().clone();
  l.requires_grad_();
  return l;
}

}  // namespace

// --- gradient checks --------------------------------------------------------------------------------

TEST(BatchNormGrad, TrainingWithWeightAndBias) {
  check_op({.name = "batch_norm training",
            .fn = [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], in[2], true); },
            .shapes = {{C(4, 3), C(3), C(3)},
                       {C(2, 3), C(3), C(3)},  // two values per channel: xhat = +-1
                       {C(3, 2, 5), C(2), C(2)},
                       {C(2, 3, 2, 3), C(3), C(3)},
                       {C(3, 5, 7), C(5), C(5)},  // odd sizes
                       {C(3, 37), C(37), C(37)},  // [N, C] with more channels than one block of the kernel
                       {Tr(2, 3, 4), St(3), C(3)},
                       {Rev(3, 2, 2, 3), C(2), Pad(2)},
                       {St(2, 3, 3), C(3).nograd(), C(3)},
                       {Pad(4, 3), C(3), C(3).nograd()},
                       {C(3, 2, 3).nograd(), C(2), C(2)}},
            .no_scalar = kNoScalar});
}

TEST(BatchNormGrad, TrainingWithoutAffine) {
  check_op({.name = "batch_norm training, no weight or bias",
            .fn = [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
            .shapes = {{C(5, 2)}, {C(2, 3, 4)}, {C(2, 2, 3, 2)}, {Tr(3, 2, 3)}, {Rev(2, 3, 2, 2)}},
            .no_scalar = kNoScalar});
  check_op(
      {.name = "batch_norm training, weight only",
       .fn = [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], Tensor(), true, 0.1, 1e-3); },
       .shapes = {{C(3, 4, 2), C(4)}, {Tr(2, 3, 3), St(3)}},
       .no_scalar = kNoScalar});
  check_op({.name = "batch_norm training, bias only",
            .fn = [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), in[1], true); },
            .shapes = {{C(3, 4, 2), C(4)}, {Tr(2, 3, 3), C(3)}},
            .no_scalar = kNoScalar});
}

TEST(BatchNormGrad, TrainingUpdatesRunningStatisticsWithoutChangingTheResult) {
  // Running statistics given in training mode are written but not read: the output and its
  // gradients are the batch statistics', however often gradcheck calls the op.
  check_op({.name = "batch_norm training with running statistics",
            .fn = [](const Inputs& in) { return batch_norm(in[0], in[3], in[4], in[1], in[2], true, 0.3); },
            .shapes = {{C(4, 3, 2), C(3), C(3), C(3).nograd(), C(3).nograd().in(0.5, 2.0)},
                       {Tr(3, 2, 3), C(2), C(2), C(2).nograd(), C(2).nograd().in(0.5, 2.0)}},
            .no_scalar = kNoScalar});
}

TEST(BatchNormGrad, Evaluation) {
  check_op({.name = "batch_norm eval",
            .fn = [](const Inputs& in) { return batch_norm(in[0], in[3], in[4], in[1], in[2], false); },
            .shapes = {{C(4, 3), C(3), C(3), C(3).nograd(), C(3).nograd().in(0.5, 2.0)},
                       {C(1, 3), C(3), C(3), C(3).nograd(), C(3).nograd().in(0.5, 2.0)},  // one sample is fine
                       {C(2, 3, 5), C(3), C(3), C(3).nograd(), C(3).nograd().in(0.5, 2.0)},
                       {C(2, 3, 3, 2), C(3), C(3), C(3).nograd(), C(3).nograd().in(0.5, 2.0)},
                       {C(2, 35), C(35), C(35), C(35).nograd(), C(35).nograd().in(0.5, 2.0)},
                       {Tr(2, 3, 4), C(3), St(3), St(3).nograd(), C(3).nograd().in(0.5, 2.0)},
                       {Rev(3, 2, 2, 2), C(2).nograd(), C(2), C(2).nograd(), C(2).nograd().in(0.5, 2.0)},
                       {C(3, 2, 2).nograd(), C(2), C(2).nograd(), C(2).nograd(), C(2).nograd().in(0.5, 2.0)}},
            .no_scalar = kNoScalar});
  check_op({.name = "batch_norm eval, no affine",
            .fn = [](const Inputs& in) { return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), false); },
            .shapes = {{C(3, 2, 4), C(2).nograd(), C(2).nograd().in(0.5, 2.0)},
                       {St(2, 3, 2), C(3).nograd(), C(3).nograd().in(0.5, 2.0)}},
            .no_scalar = kNoScalar});
}

TEST(BatchNormGrad, EmptyBatchInEvaluation) {
  const Tensor rm = zeros({3}, kFloat64), rv = ones({3}, kFloat64);
  check_empty("batch_norm eval [0, 3]",
              [&](const Inputs& in) { return batch_norm(in[0], rm, rv, in[1], in[2], false); }, {{0, 3}, {3}, {3}},
              {0, 3});
  // No channels: nothing to normalize, in training too (N * L = 8 values per channel).
  check_empty("batch_norm training [2, 0, 4]",
              [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
              {{2, 0, 4}}, {2, 0, 4});
}

// --- the fused op against the composed formula -----------------------------------------------------------

TEST(BatchNormOp, MatchesTheComposedFormulaInFloat64) {
  // Shapes over the kernel's paths: one channel per block (spatial dims), blocks of channels
  // ([N, C], including a partial last block), and sizes above the parallel threshold.
  const std::vector<Shape> shapes{{2, 3},    {7, 5},           {5, 3, 7},     {4, 3, 5, 3},  {300, 40},
                                  {600, 70}, {16, 32, 14, 14}, {3, 64, 4, 4}, {64, 3, 1, 1}, {1, 2, 1, 3, 5}};
  Generator g(11);
  for (const Shape& shape : shapes) {
    for (bool training : {true, false}) {
      for (bool affine : {true, false}) {
        SCOPED_TRACE(to_string(shape) + (training ? " training" : " eval") + (affine ? " affine" : ""));
        const std::int64_t c = shape[1];
        // Shifted and scaled: a mean far from 0 is where a one-pass variance would lose digits.
        const Tensor x0 = add(mul(randn(shape, g, kFloat64), 3.0), 20.0);
        const Tensor w0 = affine ? add(rand({c}, g, kFloat64), 0.5) : Tensor();
        const Tensor b0 = affine ? randn({c}, g, kFloat64) : Tensor();
        const Tensor rm = add(mul(randn({c}, g, kFloat64), 3.0), 20.0);
        const Tensor rv = add(rand({c}, g, kFloat64), 8.0);
        const Tensor gy = randn(shape, g, kFloat64);

        const Tensor x1 = leaf(x0), x2 = leaf(x0);
        const Tensor w1 = affine ? leaf(w0) : Tensor(), w2 = affine ? leaf(w0) : Tensor();
        const Tensor b1 = affine ? leaf(b0) : Tensor(), b2 = affine ? leaf(b0) : Tensor();
        const Tensor y1 = batch_norm(x1, training ? Tensor() : rm, training ? Tensor() : rv, w1, b1, training);
        const Tensor y2 = composed(x2, rm, rv, w2, b2, training, 1e-5);
        EXPECT_LT(max_diff(y1, y2), 1e-10);
        y1.backward(gy);
        y2.backward(gy);
        EXPECT_LT(max_diff(x1.grad(), x2.grad()), 1e-10);
        if (affine) {
          EXPECT_LT(max_diff(w1.grad(), w2.grad()), 1e-10 * shape[0]);
          EXPECT_LT(max_diff(b1.grad(), b2.grad()), 1e-10 * shape[0]);
        }
      }
    }
  }
}

TEST(BatchNormOp, Float32AgreesWithFloat64OnAConvolutionSizedBatch) {
  Generator g(12);
  const Tensor x = add(randn({64, 32, 28, 28}, g, kFloat64), 5.0);
  const Tensor w = add(rand({32}, g, kFloat64), 0.5), b = randn({32}, g, kFloat64);
  const Tensor gy = randn(x.shape(), g, kFloat64);
  const Tensor x64 = leaf(x), w64 = leaf(w), b64 = leaf(b);
  const Tensor x32 = leaf(x.to(kFloat32)), w32 = leaf(w.to(kFloat32)), b32 = leaf(b.to(kFloat32));
  const Tensor y64 = batch_norm(x64, Tensor(), Tensor(), w64, b64, true);
  const Tensor y32 = batch_norm(x32, Tensor(), Tensor(), w32, b32, true);
  EXPECT_EQ(y32.dtype(), kFloat32);
  EXPECT_LT(max_diff(y32, y64), 1e-5);
  y64.backward(gy);
  y32.backward(gy.to(kFloat32));
  EXPECT_LT(max_diff(x32.grad(), x64.grad()), 1e-5);
  // Sums of 50176 values of size about 1: relative accuracy of the double accumulation.
  EXPECT_LT(max_diff(w32.grad(), w64.grad()), 1e-2);
  EXPECT_LT(max_diff(b32.grad(), b64.grad()), 1e-2);
}

TEST(BatchNormOp, NonContiguousInputAndGradient) {
  Generator g(13);
  // Channels-last storage [N, H, W, C] seen as [N, C, H, W].
  const Tensor base = randn({4, 5, 6, 3}, g, kFloat64);
  const Tensor x = base.permute({0, 3, 1, 2});
  ASSERT_FALSE(x.is_contiguous());
  const Tensor xl = leaf(x), xc = leaf(x.contiguous());
  const Tensor y1 = batch_norm(xl, Tensor(), Tensor(), Tensor(), Tensor(), true);
  const Tensor y2 = batch_norm(xc, Tensor(), Tensor(), Tensor(), Tensor(), true);
  EXPECT_LT(max_diff(y1, y2), 1e-14);
  // A non-contiguous upstream gradient.
  const Tensor gy = randn({4, 6, 5, 3}, g, kFloat64).permute({0, 3, 2, 1});
  y1.backward(gy);
  y2.backward(gy.contiguous());
  EXPECT_LT(max_diff(xl.grad(), xc.grad()), 1e-14);
}

TEST(BatchNormOp, OutputHasZeroMeanAndUnitBiasedVariancePerChannel) {
  Generator g(14);
  const Tensor x = add(mul(randn({8, 4, 5, 5}, g), 4.0), -3.0);
  const Tensor y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 0.0);
  const Tensor m = mean(y, {0, 2, 3});
  const Tensor v = var(y, {0, 2, 3}, 0.0);
  for (std::int64_t c = 0; c < 4; ++c) {
    EXPECT_NEAR(m.at({c}), 0.0, 1e-5);
    EXPECT_NEAR(v.at({c}), 1.0, 1e-4);
  }
}

// --- running statistics ---------------------------------------------------------------------------------

TEST(BatchNormOp, UpdatesRunningStatisticsInPlace) {
  // Channel 0: 1, 2, 3, 6 (mean 3, biased var 3.5, unbiased 14/3); channel 1: 0, 0, 4, 4 (mean 2,
  // biased var 4, unbiased 16/3).
  const Tensor x = tensor({1, 0, 2, 0, 3, 4, 6, 4}, {4, 2}, kFloat64);
  const Tensor rm = tensor({1, -1}, {2}, kFloat64), rv = tensor({2, 0.5}, {2}, kFloat64);
  const Tensor rm_alias = rm;  // another handle on the same storage sees the update
  const Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.25);
  EXPECT_NEAR(rm_alias.at({0}), 0.75 * 1.0 + 0.25 * 3.0, 1e-15);
  EXPECT_NEAR(rm.at({1}), 0.75 * -1.0 + 0.25 * 2.0, 1e-15);
  EXPECT_NEAR(rv.at({0}), 0.75 * 2.0 + 0.25 * 14.0 / 3.0, 1e-15);
  EXPECT_NEAR(rv.at({1}), 0.75 * 0.5 + 0.25 * 16.0 / 3.0, 1e-15);
  // The output uses the biased batch variance.
  EXPECT_NEAR(y.at({0, 0}), (1.0 - 3.0) / std::sqrt(3.5 + 1e-5), 1e-12);
  EXPECT_NEAR(y.at({3, 1}), (4.0 - 2.0) / std::sqrt(4.0 + 1e-5), 1e-12);

  // momentum 1: the running statistics become the batch's.
  batch_norm(x, rm, rv, Tensor(), Tensor(), true, 1.0);
  EXPECT_NEAR(rm.at({0}), 3.0, 1e-15);
  EXPECT_NEAR(rv.at({1}), 16.0 / 3.0, 1e-14);

  // Evaluation reads them and writes nothing.
  const std::vector<double> before_mean = rm.to_vector<double>(), before_var = rv.to_vector<double>();
  const Tensor z = batch_norm(x, rm, rv, Tensor(), Tensor(), false);
  EXPECT_EQ(rm.to_vector<double>(), before_mean);
  EXPECT_EQ(rv.to_vector<double>(), before_var);
  EXPECT_NEAR(z.at({0, 0}), (1.0 - 3.0) / std::sqrt(14.0 / 3.0 + 1e-5), 1e-12);
}

TEST(BatchNormOp, RunningStatisticsOfAnImageBatchAndStridedBuffers) {
  Generator g(15);
  const Tensor x = add(randn({6, 3, 4, 5}, g, kFloat32), 2.0);
  // Running statistics that are every second element of a longer buffer.
  const Tensor mean_store = zeros({6}), var_store = ones({6});
  const Tensor rm = mean_store.slice(0, 0, 6, 2), rv = var_store.slice(0, 1, 6, 2);
  ASSERT_FALSE(rm.is_contiguous());
  batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1);
  const Tensor x64 = x.to(kFloat64);
  const Tensor batch_mean = mean(x64, {0, 2, 3});
  const Tensor batch_var = var(x64, {0, 2, 3}, 1.0);  // unbiased
  for (std::int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(mean_store.at({2 * c}), 0.1 * batch_mean.at({c}), 1e-6);
    EXPECT_NEAR(var_store.at({2 * c + 1}), 0.9 + 0.1 * batch_var.at({c}), 1e-6);
    EXPECT_EQ(mean_store.at({2 * c + 1}), 0.0) << "the elements in between are untouched";
    EXPECT_EQ(var_store.at({2 * c}), 1.0);
  }
}

TEST(BatchNormOp, RunningStatisticsRecordNoGraph) {
  const Tensor x = leaf(tensor({1, 2, 3, 4}, {2, 2}, kFloat64));
  const Tensor rm = zeros({2}, kFloat64), rv = ones({2}, kFloat64);
  const Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(rm.requires_grad());
  EXPECT_EQ(y.grad_fn()->name(), "batch_norm");
  EXPECT_EQ(y.grad_fn()->next_edges().size(), 3u);
  // No input requires grad: no node.
  EXPECT_EQ(batch_norm(x.detach(), rm, rv, Tensor(), Tensor(), true).grad_fn(), nullptr);
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(batch_norm(x, rm, rv, Tensor(), Tensor(), true).requires_grad());
  }
}

// --- errors -------------------------------------------------------------------------------------------

TEST(BatchNormOp, Errors) {
  const Tensor x = zeros({4, 3, 2});
  const Tensor c3 = zeros({3}), c4 = zeros({4});
  EXPECT_THROW_WITH(batch_norm(Tensor(), c3, c3), ValueError, "batch_norm", "undefined");
  EXPECT_THROW_WITH(batch_norm(zeros({3}), c3, c3), ShapeError, "batch_norm", "[N, C, *]", "[3]");
  EXPECT_THROW_WITH(batch_norm(scalar_tensor(1.0), Tensor(), Tensor(), Tensor(), Tensor(), true), ShapeError,
                    "batch_norm", "[]");
  EXPECT_THROW_WITH(batch_norm(x, Tensor(), Tensor(), c4), ShapeError, "batch_norm", "weight", "[4]", "[4, 3, 2]",
                    "3 channels");
  EXPECT_THROW_WITH(batch_norm(x, Tensor(), Tensor(), c3, zeros({3, 1})), ShapeError, "batch_norm", "bias", "[3, 1]");
  EXPECT_THROW_WITH(batch_norm(x, c4, c3), ShapeError, "batch_norm", "running_mean", "[4]", "[4, 3, 2]");
  EXPECT_THROW_WITH(batch_norm(x, c3, zeros({2})), ShapeError, "batch_norm", "running_var", "[2]");
  EXPECT_THROW_WITH(batch_norm(x, c3, Tensor(), Tensor(), Tensor(), true), ValueError, "batch_norm",
                    "running_mean and running_var");
  EXPECT_THROW_WITH(batch_norm(x, Tensor(), Tensor()), ValueError, "batch_norm", "evaluation mode");
  EXPECT_THROW_WITH(batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true), ValueError, "batch_norm",
                    "expected more than 1 value per channel when training", "[1, 3]");
  EXPECT_THROW_WITH(batch_norm(zeros({1, 3, 1, 1}), c3, c3, Tensor(), Tensor(), true), ValueError,
                    "more than 1 value per channel", "[1, 3, 1, 1]");
  EXPECT_THROW_WITH(batch_norm(zeros({0, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true), ValueError,
                    "more than 1 value per channel", "[0, 3]");
  EXPECT_NO_THROW(batch_norm(zeros({1, 3}), c3, ones({3}))) << "one sample is fine in evaluation mode";
  EXPECT_NO_THROW(batch_norm(zeros({1, 3, 2}), Tensor(), Tensor(), Tensor(), Tensor(), true)) << "N * L = 2";
  // dtypes
  EXPECT_THROW_WITH(batch_norm(x, Tensor(), Tensor(), zeros({3}, kFloat64), Tensor(), true), DTypeError, "batch_norm",
                    "weight", "float64", "float32");
  EXPECT_THROW_WITH(batch_norm(x.to(kFloat64), c3, ones({3}, kFloat64)), DTypeError, "batch_norm", "running_mean",
                    "float32", "float64");
  EXPECT_THROW_WITH(batch_norm(zeros({4, 3}, kInt64), Tensor(), Tensor(), Tensor(), Tensor(), true), DTypeError,
                    "batch_norm", "int64");
}
