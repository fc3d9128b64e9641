// Gradient checks and bad-input tests for matmul (descent/ops/linalg.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

const OpFn kMatmul = [](const Inputs& in) { return matmul(in[0], in[1]); };
constexpr const char* kNoScalar = "matmul needs operands of at least 1 dimension (a 0-d operand is a ShapeError)";

// A plain triple loop, the reference for forward values.
Tensor reference_matmul_2d(const Tensor& a, const Tensor& b) {
  const std::int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  Tensor y = zeros({m, n}, kFloat64);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::int64_t p = 0; p < k; ++p) acc += a.at({i, p}) * b.at({p, j});
      y.set({i, j}, acc);
    }
  }
  return y;
}

}  // namespace

TEST(LinalgGrad, MatmulRankCombinations) {
  check_op({.name = "matmul 1-D x 1-D (dot)", .fn = kMatmul,
            .shapes = {{C(3), C(3)}, {St(3), C(3)}, {C(1), Pad(1)}, {St(4), St(4)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 1-D x 2-D", .fn = kMatmul,
            .shapes = {{C(3), C(3, 4)}, {St(3), Tr(3, 4)}, {C(2), Pad(2, 3)}, {C(1), C(1, 2)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 2-D x 1-D", .fn = kMatmul,
            .shapes = {{C(2, 3), C(3)}, {Tr(2, 3), St(3)}, {St(2, 3), C(3)}, {C(4, 1), C(1)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 2-D x 2-D", .fn = kMatmul,
            .shapes = {{C(2, 3), C(3, 4)}, {Tr(2, 3), C(3, 4)}, {C(2, 3), Tr(3, 4)}, {Tr(2, 3), Tr(3, 4)},
                       {St(2, 3), Pad(3, 2)}, {Pad(2, 3), St(3, 2)}, {C(1, 3), C(3, 1)}, {C(3, 1), C(1, 2)},
                       {C(1, 1), Tr(1, 3)}},
            .no_scalar = kNoScalar});
  check_op({.name = "matmul 1-D x 3-D", .fn = kMatmul,
            .shapes = {{C(3), C(2, 3, 4)}, {St(3), Rev(2, 3, 2)}, {C(2), Tr(2, 2, 3)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 3-D x 1-D", .fn = kMatmul,
            .shapes = {{C(2, 2, 3), C(3)}, {Tr(2, 2, 3), St(3)}, {Rev(2, 3, 2), C(2)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 2-D x 3-D", .fn = kMatmul,
            .shapes = {{C(2, 3), C(2, 3, 4)}, {Tr(2, 3), C(3, 3, 2)}, {C(2, 3), Tr(2, 3, 2)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 3-D x 2-D", .fn = kMatmul,
            .shapes = {{C(2, 2, 3), C(3, 4)}, {Rev(2, 2, 3), Tr(3, 2)}, {St(3, 2, 2), C(2, 3)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul 3-D x 3-D", .fn = kMatmul,
            .shapes = {{C(2, 2, 3), C(2, 3, 4)}, {Tr(2, 2, 3), Tr(2, 3, 2)}, {Rev(2, 2, 2), Pad(2, 2, 3)},
                       {C(1, 2, 3), C(1, 3, 1)}},
            .no_scalar = kNoScalar});
}

TEST(LinalgGrad, MatmulBroadcastBatch) {
  check_op({.name = "matmul broadcast batch", .fn = kMatmul,
            .shapes = {{C(1, 2, 3), C(3, 3, 2)},
                       {C(3, 2, 3), C(1, 3, 2)},
                       {C(2, 1, 2, 3), C(3, 3, 2)},
                       {Tr(2, 1, 3, 2), Rev(2, 2, 1)},
                       {C(2, 1, 2, 3), Tr(1, 2, 3, 2)},
                       {C(3), C(2, 1, 3, 2)},
                       {Pad(2, 1, 2, 2), C(2)}},
            .no_scalar = kNoScalar});
}

TEST(LinalgGrad, MatmulOneSided) {
  check_op({.name = "matmul, only the lhs requires grad", .fn = kMatmul,
            .shapes = {{C(2, 3), C(3, 2).nograd()}, {Tr(2, 2, 3), C(3).nograd()}, {C(3), Tr(3, 2).nograd()}},
            .no_scalar = kNoScalar});
  check_op({.name = "matmul, only the rhs requires grad", .fn = kMatmul,
            .shapes = {{C(2, 3).nograd(), C(3, 2)}, {Tr(2, 2, 3).nograd(), C(3)}, {C(3).nograd(), Tr(3, 2)}},
            .no_scalar = kNoScalar});
  // The same tensor on both sides: x x^T.
  check_op({.name = "matmul(x, x^T)", .fn = [](const Inputs& in) { return matmul(in[0], in[0].transpose(-2, -1)); },
            .shapes = {{C(2, 3)}, {Tr(3, 2)}, {St(2, 2, 2)}}, .no_scalar = kNoScalar});
}

TEST(LinalgGrad, NonContiguousUpstreamGradients) {
  check_op({.name = "matmul then transpose", .fn = [](const Inputs& in) { return matmul(in[0], in[1]).transpose(-2, -1); },
            .shapes = {{C(2, 3), C(3, 4)}, {Tr(2, 2, 3), St(3, 2)}}, .no_scalar = kNoScalar});
  check_op({.name = "matmul then cat then slice",
            .fn = [](const Inputs& in) { return cat({matmul(in[0], in[1]), in[0]}, 1).slice(1, 0, 5, 2); },
            .shapes = {{C(2, 3), C(3, 2)}, {Tr(2, 3), Rev(3, 2)}}, .no_scalar = kNoScalar});
  // Stride-0 operands (expanded views) go to the BLAS via a copy.
  check_op({.name = "matmul of expanded operands",
            .fn = [](const Inputs& in) { return matmul(expand(in[0], {3, 4}), expand(in[1], {2, 4, 2})); },
            .shapes = {{C(3, 1), C(4, 2)}, {C(1, 4), Tr(4, 2)}, {C(), C(1, 2)}}});
}

TEST(LinalgForward, MatchesReferenceForEveryLayout) {
  Generator g(7);
  const Tensor a = randn({3, 4}, g, kFloat64);
  const Tensor b = randn({4, 5}, g, kFloat64);
  const Tensor expected = reference_matmul_2d(a, b);
  const auto check = [&](const Tensor& x, const Tensor& y, const char* what) {
    const std::vector<double> got = matmul(x, y).to_vector<double>();
    const std::vector<double> want = expected.to_vector<double>();
    ASSERT_EQ(got.size(), want.size()) << what;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << what << " at " << i;
  };
  check(a, b, "contiguous");
  check(a.t().contiguous().t(), b, "transposed lhs");
  check(a, b.t().contiguous().t(), "transposed rhs");
  check(a.t().contiguous().t(), b.t().contiguous().t(), "both transposed");
  // Strided rows and columns: every second element of a larger tensor.
  Tensor big_a = zeros({3, 8}, kFloat64);
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 4; ++j) big_a.set({i, 2 * j}, a.at({i, j}));
  check(big_a.slice(1, 0, 8, 2), b, "column-strided lhs");
  Tensor big_b = zeros({8, 5}, kFloat64);
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 5; ++j) big_b.set({2 * i + 1, j}, b.at({i, j}));
  check(a, big_b.slice(0, 1, 8, 2), "row-strided rhs");
  // float32 goes through sgemm.
  const std::vector<float> f = matmul(a.to(kFloat32), b.to(kFloat32)).to_vector<float>();
  const std::vector<double> want = expected.to_vector<double>();
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_NEAR(f[i], want[i], 1e-4);
}

TEST(LinalgForward, ResultShapes) {
  const auto shape_of = [](Shape a, Shape b) { return matmul(zeros(a, kFloat64), zeros(b, kFloat64)).shape(); };
  EXPECT_EQ(shape_of({3}, {3}), (Shape{}));
  EXPECT_EQ(shape_of({3}, {3, 4}), (Shape{4}));
  EXPECT_EQ(shape_of({2, 3}, {3}), (Shape{2}));
  EXPECT_EQ(shape_of({2, 3}, {3, 4}), (Shape{2, 4}));
  EXPECT_EQ(shape_of({3}, {5, 3, 4}), (Shape{5, 4}));
  EXPECT_EQ(shape_of({5, 2, 3}, {3}), (Shape{5, 2}));
  EXPECT_EQ(shape_of({2, 1, 2, 3}, {4, 3, 5}), (Shape{2, 4, 2, 5}));
  EXPECT_EQ(shape_of({1, 2, 3}, {3, 4}), (Shape{1, 2, 4}));
}

TEST(LinalgForward, ZeroSizeInnerDimensionGivesZeros) {
  for (DType dtype : {kFloat32, kFloat64}) {
    // The output storage starts as garbage: it must be filled with zeros, not left alone.
    Tensor a = ones({2, 0}, dtype);
    Tensor b = ones({0, 3}, dtype);
    const Tensor y = matmul(a, b);
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(y.to_vector<double>(), std::vector<double>(6, 0.0));
    EXPECT_EQ(matmul(ones({4, 2, 0}, dtype), ones({0, 3}, dtype)).to_vector<double>(), std::vector<double>(24, 0.0));
    EXPECT_EQ(matmul(ones({0}, dtype), ones({0}, dtype)).item(), 0.0);
  }
  // Backward through K = 0: gradients of shape [2, 0] and [0, 3] (nothing to accumulate).
  Tensor a = ones({2, 0}, kFloat64);
  Tensor b = ones({0, 3}, kFloat64);
  a.requires_grad_();
  b.requires_grad_();
  sum(matmul(a, b)).backward();
  EXPECT_EQ(a.grad().shape(), (Shape{2, 0}));
  EXPECT_EQ(b.grad().shape(), (Shape{0, 3}));
  // M = 0 or N = 0: an empty result.
  EXPECT_EQ(matmul(ones({0, 3}, kFloat64), ones({3, 2}, kFloat64)).shape(), (Shape{0, 2}));
  EXPECT_EQ(matmul(ones({2, 3}, kFloat64), ones({3, 0}, kFloat64)).shape(), (Shape{2, 0}));
}

TEST(LinalgForward, ZeroSizeBackward) {
  check_empty("matmul M = 0", kMatmul, {{0, 3}, {3, 2}}, {0, 2});
  check_empty("matmul N = 0", kMatmul, {{2, 3}, {3, 0}}, {2, 0});
  check_empty("matmul K = 0", kMatmul, {{2, 0}, {0, 3}}, {2, 3});
  check_empty("matmul K = 0, batched", kMatmul, {{4, 2, 0}, {0, 3}}, {4, 2, 3});
  check_empty("matmul empty batch", kMatmul, {{0, 2, 3}, {3, 2}}, {0, 2, 2});
  check_empty("matmul 1-D K = 0", kMatmul, {{0}, {0}}, {});
}

// --- bad inputs -----------------------------------------------------------------------------------

TEST(LinalgErrors, InnerDimensionMismatch) {
  EXPECT_THROW_WITH(matmul(zeros({2, 3}), zeros({4, 5})), ShapeError, "matmul", "inner", "[2, 3]", "[4, 5]");
  EXPECT_THROW_WITH(matmul(zeros({3}), zeros({4})), ShapeError, "matmul", "[3]", "[4]");
  EXPECT_THROW_WITH(matmul(zeros({3}), zeros({4, 5})), ShapeError, "matmul", "[4, 5]");
  EXPECT_THROW_WITH(matmul(zeros({2, 3}), zeros({4})), ShapeError, "matmul", "[2, 3]");
  EXPECT_THROW_WITH(matmul(zeros({2, 2, 3}), zeros({2, 4, 5})), ShapeError, "matmul", "[2, 2, 3]", "[2, 4, 5]");
}

TEST(LinalgErrors, BatchMismatch) {
  EXPECT_THROW_WITH(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})), ShapeError, "matmul", "[2]", "[3]");
}

TEST(LinalgErrors, ZeroDimOperand) {
  EXPECT_THROW_WITH(matmul(scalar_tensor(1.0), zeros({2})), ShapeError, "matmul", "[]", "[2]");
  EXPECT_THROW_WITH(matmul(zeros({2}), scalar_tensor(1.0)), ShapeError, "matmul", "[2]", "[]");
}

TEST(LinalgErrors, DTypes) {
  EXPECT_THROW_WITH(matmul(zeros({2, 2}, kFloat32), zeros({2, 2}, kFloat64)), DTypeError, "matmul", "float32",
                    "float64");
  EXPECT_THROW_WITH(matmul(tensor_int64({1, 2, 3, 4}, {2, 2}), tensor_int64({1, 2, 3, 4}, {2, 2})), DTypeError,
                    "matmul", "int64");
}

// --- linear ---------------------------------------------------------------------------------------

namespace {
const OpFn kLinear = [](const Inputs& in) { return linear(in[0], in[1], in[2]); };
const OpFn kLinearNoBias = [](const Inputs& in) { return linear(in[0], in[1]); };
constexpr const char* kLinearNoScalar = "linear needs x of at least 1 dimension and a 2-D weight";
}  // namespace

TEST(LinalgGrad, Linear) {
  check_op({.name = "linear with bias", .fn = kLinear,
            .shapes = {{C(4, 3), C(5, 3), C(5)},
                       {C(2, 3, 4), C(2, 4), C(2)},
                       {C(3), C(2, 3), C(2)},
                       {Tr(4, 3), C(5, 3), C(5)},
                       {C(4, 3), Tr(5, 3), St(5)},
                       {Tr(2, 3, 4), Tr(2, 4), C(2)},
                       {Rev(2, 3, 4), C(3, 4), Pad(3)},
                       {St(2, 2, 3), C(1, 3), C(1)},
                       {C(4, 3).nograd(), C(5, 3), C(5)},
                       {C(4, 3), C(5, 3).nograd(), C(5)},
                       {C(4, 3), C(5, 3), C(5).nograd()}},
            .no_scalar = kLinearNoScalar});
  check_op({.name = "linear without bias", .fn = kLinearNoBias,
            .shapes = {{C(4, 3), C(5, 3)},
                       {C(2, 3, 4), C(2, 4)},
                       {C(2, 1, 3, 2), C(3, 2)},
                       {C(3), C(2, 3)},
                       {Tr(4, 3), Tr(5, 3)},
                       {Tr(2, 3, 4), C(2, 4)},
                       {Pad(3, 4), St(2, 4)}},
            .no_scalar = kLinearNoScalar});
  // The same tensor as input and weight: linear(x, x) = x x^T.
  check_op({.name = "linear(x, x)", .fn = [](const Inputs& in) { return linear(in[0], in[0]); },
            .shapes = {{C(3, 2)}, {Tr(2, 3)}}, .no_scalar = kLinearNoScalar});
}

TEST(LinalgForward, LinearMatchesMatmulPlusBias) {
  Generator g(11);
  const Tensor x = randn({2, 3, 4}, g, kFloat64);
  const Tensor w = randn({5, 4}, g, kFloat64);
  const Tensor b = randn({5}, g, kFloat64);
  const std::vector<double> got = linear(x, w, b).to_vector<double>();
  const std::vector<double> want = add(matmul(x, w.t()), b).to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
  EXPECT_EQ(linear(x, w, b).shape(), (Shape{2, 3, 5}));
  EXPECT_EQ(linear(randn({4}, g, kFloat64), w).shape(), (Shape{5}));
  // float32 goes through sgemm with beta = 1 onto the bias rows.
  const std::vector<float> f = linear(x.to(kFloat32), w.to(kFloat32), b.to(kFloat32)).to_vector<float>();
  for (std::size_t i = 0; i < f.size(); ++i) EXPECT_NEAR(f[i], want[i], 1e-4) << i;
}

// linear runs dense operands on raw pointers and anything else through views and batched_gemm:
// the same values laid out densely and as strided views must give the same output and gradients.
// Sizes of 1 (one row, one input or one output feature) turn the dense path's products into
// matrix-vector and outer products (GEMV, GER), with every transposition linear uses.
TEST(LinalgForward, LinearDensePathMatchesStridedPath) {
  Generator g(12);
  struct Sizes {
    std::int64_t rows, in, out;
  };
  for (const Sizes sz : {Sizes{6, 4, 3}, Sizes{1, 4, 3}, Sizes{6, 4, 1}, Sizes{6, 1, 3}, Sizes{1, 1, 1}, Sizes{1, 4, 1},
                         Sizes{1, 1, 3}, Sizes{6, 1, 1}}) {
    for (DType dtype : {kFloat32, kFloat64}) {
      SCOPED_TRACE(::testing::Message() << sz.rows << "x" << sz.in << " -> " << sz.out << " " << dtype_name(dtype));
      const Tensor x = randn({sz.rows, sz.in}, g, dtype), w = randn({sz.out, sz.in}, g, dtype),
                   b = randn({sz.out}, g, dtype);
      const Tensor gy = randn({sz.rows, sz.out}, g, dtype);
      // Strided copies: the transpose of a transposed contiguous copy holds the same values.
      const Tensor xs = x.t().contiguous().t(), ws = w.t().contiguous().t();
      if (sz.rows > 1 && sz.in > 1) ASSERT_FALSE(xs.is_contiguous());
      if (sz.out > 1 && sz.in > 1) ASSERT_FALSE(ws.is_contiguous());
      auto run = [&](const Tensor& x_in, const Tensor& w_in) {
        Tensor xl = x_in.detach(), wl = w_in.detach(), bl = b.detach();
        xl.requires_grad_();
        wl.requires_grad_();
        bl.requires_grad_();
        const Tensor y = linear(xl, wl, bl);
        y.backward(gy);
        return std::vector<std::vector<double>>{y.to_vector<double>(), xl.grad().to_vector<double>(),
                                                wl.grad().to_vector<double>(), bl.grad().to_vector<double>()};
      };
      const auto dense = run(x, w);
      const auto strided = run(xs, ws);
      const double tol = dtype == kFloat32 ? 1e-5 : 1e-12;
      for (std::size_t t = 0; t < dense.size(); ++t) {
        ASSERT_EQ(dense[t].size(), strided[t].size());
        for (std::size_t i = 0; i < dense[t].size(); ++i) EXPECT_NEAR(dense[t][i], strided[t][i], tol) << t << " " << i;
      }
    }
  }
}

// Outputs come from recycled buffers: a one-row product (GEMV, beta = 0) must not read what the
// buffer held before, NaN included.
TEST(LinalgForward, LinearOneRowIgnoresWhatRecycledBuffersHeld) {
  const std::int64_t in = 20000, out = 4;  // gradients of 80 KB and 320 KB: cached sizes
  Generator g(13);
  for (int round = 0; round < 2; ++round) {
    {  // fill buffers of the sizes the products below will get, then free them
      Tensor nan_x = full({1, in}, std::nan(""));
      Tensor nan_w = full({out, in}, std::nan(""));
    }
    Tensor x = randn({1, in}, g), w = randn({out, in}, g);
    x.requires_grad_();
    w.requires_grad_();
    sum(linear(x, w)).backward();
    for (const Tensor& t : {x.grad(), w.grad()}) {
      const auto v = t.to_vector<double>();
      EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](double e) { return std::isfinite(e); }));
    }
  }
}

TEST(LinalgForward, LinearZeroSizes) {
  for (DType dtype : {kFloat32, kFloat64}) {
    // in_features = 0: the empty sum leaves the bias in every row (and zeros without bias).
    const Tensor b = tensor({1.5, -2.0, 0.25}, {3}, dtype);
    EXPECT_EQ(linear(ones({2, 0}, dtype), ones({3, 0}, dtype), b).to_vector<double>(),
              (std::vector<double>{1.5, -2.0, 0.25, 1.5, -2.0, 0.25}));
    EXPECT_EQ(linear(ones({2, 0}, dtype), ones({3, 0}, dtype)).to_vector<double>(), std::vector<double>(6, 0.0));
  }
  check_empty("linear no rows", kLinear, {{0, 3}, {2, 3}, {2}}, {0, 2});
  check_empty("linear no rows, 3-D", kLinear, {{2, 0, 3}, {2, 3}, {2}}, {2, 0, 2});
  check_empty("linear in_features = 0", kLinear, {{4, 0}, {2, 0}, {2}}, {4, 2});
  check_empty("linear out_features = 0", kLinear, {{4, 3}, {0, 3}, {0}}, {4, 0});
  // Gradients with no rows: the weight and bias gradients are zeros, not garbage.
  Tensor x = ones({0, 3}, kFloat64), w = ones({2, 3}, kFloat64), bias = ones({2}, kFloat64);
  w.requires_grad_();
  bias.requires_grad_();
  sum(linear(x, w, bias)).backward();
  EXPECT_EQ(w.grad().to_vector<double>(), std::vector<double>(6, 0.0));
  EXPECT_EQ(bias.grad().to_vector<double>(), std::vector<double>(2, 0.0));
}

TEST(LinalgErrors, Linear) {
  EXPECT_THROW_WITH(linear(zeros({32, 100}), zeros({128, 784})), ShapeError, "linear", "[32, 100]", "100",
                    "[128, 784]", "784");
  EXPECT_THROW_WITH(linear(zeros({3, 4}), zeros({4})), ShapeError, "linear", "weight", "[4]");
  EXPECT_THROW_WITH(linear(scalar_tensor(1.0), zeros({2, 1})), ShapeError, "linear", "[]");
  EXPECT_THROW_WITH(linear(zeros({3, 4}), zeros({2, 4}), zeros({3})), ShapeError, "linear", "bias", "[3]", "[2]");
  EXPECT_THROW_WITH(linear(zeros({3, 4}), zeros({2, 4}), zeros({1, 2})), ShapeError, "linear", "bias", "[1, 2]");
  EXPECT_THROW_WITH(linear(zeros({3, 4}, kFloat32), zeros({2, 4}, kFloat64)), DTypeError, "linear", "float32",
                    "float64");
  EXPECT_THROW_WITH(linear(zeros({3, 4}), zeros({2, 4}), zeros({2}, kFloat64)), DTypeError, "linear", "float64");
  EXPECT_THROW_WITH(linear(tensor_int64({1, 2}, {1, 2}), tensor_int64({1, 2}, {1, 2})), DTypeError, "linear",
                    "int64");
}
