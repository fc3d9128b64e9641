// Gradient checks and bad-input tests for the reductions (descent/ops/reduce.h).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

// Inputs for a full reduction.
std::vector<std::vector<Arg>> full_shapes() {
  return {{C(2, 3)}, {C()}, {C(1)}, {C(5)}, {C(1, 4, 1)}, {Tr(3, 2)}, {St(2, 3)}, {Pad(2, 2)}, {Rev(2, 3, 2)}};
}

// A reduction over `dims` of 3-D inputs (contiguous and every non-contiguous layout), plus
// scalars (dims {0} or {-1} of a 0-d tensor reduce nothing) and size-1 dims.
struct DimCase {
  std::vector<std::int64_t> dims;
  bool keepdim;
};

std::vector<DimCase> dim_cases() {
  return {{{0}, false}, {{1}, true}, {{-1}, false}, {{0, 2}, false}, {{0, 2}, true}, {{1, 2}, false}, {{0, 1, 2}, true}};
}

std::vector<std::vector<Arg>> dim_shapes() {
  return {{C(2, 3, 2)}, {Tr(2, 3, 2)}, {St(2, 2, 3)}, {Rev(3, 2, 2)}, {Pad(2, 1, 3)}, {C(1, 3, 1)}};
}

}  // namespace

TEST(ReduceGrad, SumFull) {
  check_op({.name = "sum", .fn = [](const Inputs& in) { return sum(in[0]); }, .shapes = full_shapes()});
}

TEST(ReduceGrad, SumDims) {
  for (const DimCase& c : dim_cases()) {
    check_op({.name = "sum dims " + to_string(c.dims) + (c.keepdim ? " keepdim" : ""),
              .fn = [c](const Inputs& in) { return sum(in[0], c.dims, c.keepdim); },
              .shapes = dim_shapes(),
              .no_scalar = "checked separately (a 3-D dims list does not fit a 0-d tensor)"});
  }
  check_op({.name = "sum 0-d over dim 0", .fn = [](const Inputs& in) { return sum(in[0], {0}, true); },
            .shapes = {{C()}, {St(3)}}});
  check_op({.name = "sum 2-D over dim -1", .fn = [](const Inputs& in) { return sum(in[0], {-1}); },
            .shapes = {{C(2, 3)}, {Tr(3, 2)}, {C(3, 1)}, {C(1, 3)}, {C()}}});
}

TEST(ReduceGrad, MeanFullAndDims) {
  check_op({.name = "mean", .fn = [](const Inputs& in) { return mean(in[0]); }, .shapes = full_shapes()});
  for (const DimCase& c : dim_cases()) {
    check_op({.name = "mean dims " + to_string(c.dims) + (c.keepdim ? " keepdim" : ""),
              .fn = [c](const Inputs& in) { return mean(in[0], c.dims, c.keepdim); },
              .shapes = dim_shapes(),
              .no_scalar = "checked by the full mean"});
  }
}

TEST(ReduceGrad, MaxMinFull) {
  // Random values are distinct (with probability 1), so there are no ties within eps.
  check_op({.name = "max", .fn = [](const Inputs& in) { return max(in[0]); }, .shapes = full_shapes()});
  check_op({.name = "min", .fn = [](const Inputs& in) { return min(in[0]); }, .shapes = full_shapes()});
}

TEST(ReduceGrad, MaxMinAlongDim) {
  for (std::int64_t dim : {0, 1, -1}) {
    for (bool keepdim : {false, true}) {
      const std::string suffix = " dim " + std::to_string(dim) + (keepdim ? " keepdim" : "");
      check_op({.name = "max" + suffix,
                .fn = [=](const Inputs& in) { return max(in[0], dim, keepdim).values; },
                .shapes = {{C(2, 3, 2)}, {Tr(2, 3, 2)}, {St(3, 2, 2)}, {Rev(2, 3, 2)}, {C(1, 3, 1)}},
                .no_scalar = "checked below"});
      check_op({.name = "min" + suffix,
                .fn = [=](const Inputs& in) { return min(in[0], dim, keepdim).values; },
                .shapes = {{C(2, 3, 2)}, {Tr(2, 3, 2)}, {St(3, 2, 2)}, {Rev(2, 3, 2)}, {C(1, 3, 1)}},
                .no_scalar = "checked below"});
    }
  }
  check_op({.name = "max 0-d / 1-D", .fn = [](const Inputs& in) { return max(in[0], 0).values; },
            .shapes = {{C()}, {C(4)}, {St(3)}, {C(1)}}});
  check_op({.name = "min 0-d keepdim", .fn = [](const Inputs& in) { return min(in[0], -1, true).values; },
            .shapes = {{C()}, {Tr(2, 3)}}});
}

TEST(ReduceGrad, AmaxAmin) {
  for (const DimCase& c : dim_cases()) {
    const std::string suffix = " dims " + to_string(c.dims) + (c.keepdim ? " keepdim" : "");
    check_op({.name = "amax" + suffix, .fn = [c](const Inputs& in) { return amax(in[0], c.dims, c.keepdim); },
              .shapes = dim_shapes(), .no_scalar = "checked below"});
    check_op({.name = "amin" + suffix, .fn = [c](const Inputs& in) { return amin(in[0], c.dims, c.keepdim); },
              .shapes = dim_shapes(), .no_scalar = "checked below"});
  }
  check_op({.name = "amax 0-d", .fn = [](const Inputs& in) { return amax(in[0], {0}); },
            .shapes = {{C()}, {St(2)}}});
}

TEST(ReduceForward, TiesShareOrPickFirst) {
  // Full max and amax share the gradient evenly among tied maxima; max(x, dim) gives it to the first.
  Tensor x = tensor({1, 3, 3, 0}, {4}, kFloat64);
  x.requires_grad_();
  max(x).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0.5, 0.5, 0}));

  x.set_grad(Tensor());
  sum(amin(tensor({2, 2, 2, 5}, {2, 2}, kFloat64) * x.reshape({2, 2}), {1})).backward();
  // amin over each row of [[1*2, 3*2], [3*2, 0*5]] = [2, 0]: each row has a single minimum.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 0, 0, 5}));

  x.set_grad(Tensor());
  const ValuesIndices vi = max(x, 0);
  EXPECT_EQ(vi.values.item(), 3.0);
  EXPECT_EQ(vi.indices.item(), 1.0);
  EXPECT_EQ(vi.indices.dtype(), kInt64);
  vi.values.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 0}));

  Tensor y = tensor({4, 1, 4, 4}, {2, 2}, kFloat64);
  y.requires_grad_();
  sum(amax(y, {0, 1})).backward();
  EXPECT_NEAR(y.grad().at({0, 0}), 1.0 / 3.0, 1e-15);
  EXPECT_EQ(y.grad().at({0, 1}), 0.0);
}

TEST(ReduceForward, ArgmaxArgmin) {
  const Tensor x = tensor({1, 5, 5, 0, 7, -1}, {2, 3}, kFloat64);
  EXPECT_EQ(argmax(x, 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1}));  // first of the ties
  EXPECT_EQ(argmin(x, 1).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(argmax(x, 0, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(argmax(x, 0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 0}));
  EXPECT_EQ(argmax(x.t(), 0).to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(argmax(scalar_tensor(3.0), 0).item(), 0.0);
  const ValuesIndices mn = min(x, -1, true);
  EXPECT_EQ(mn.values.to_vector<double>(), (std::vector<double>{1, -1}));
  EXPECT_EQ(mn.indices.shape(), (Shape{2, 1}));
}

TEST(ReduceGrad, Var) {
  for (double correction : {1.0, 0.0}) {
    for (const DimCase& c : dim_cases()) {
      check_op({.name = "var correction " + std::to_string(correction) + " dims " + to_string(c.dims),
                .fn = [=](const Inputs& in) { return var(in[0], c.dims, correction, c.keepdim); },
                .shapes = {{C(2, 3, 2)}, {Tr(2, 3, 2)}, {St(2, 2, 3)}, {Rev(3, 2, 2)}},
                .no_scalar = "var over a 0-d tensor divides by N - correction <= 0"});
    }
  }
  check_op({.name = "var 2-D dim 1", .fn = [](const Inputs& in) { return var(in[0], {1}); },
            .shapes = {{C(2, 3)}, {Tr(2, 4)}, {C(3, 2)}}, .no_scalar = "see above"});
  check_op({.name = "var correction 0 of a 0-d tensor", .fn = [](const Inputs& in) { return var(in[0], {0}, 0.0); },
            .shapes = {{C()}, {St(3)}}});
}

TEST(ReduceForward, Var) {
  const Tensor x = tensor({1, 2, 3, 4}, {2, 2}, kFloat64);
  EXPECT_DOUBLE_EQ(var(x, {0, 1}).item(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(var(x, {0, 1}, 0.0).item(), 1.25);
  EXPECT_EQ(var(x, {1}).to_vector<double>(), (std::vector<double>{0.5, 0.5}));
}

TEST(ReduceGrad, Logsumexp) {
  for (const DimCase& c : dim_cases()) {
    check_op({.name = "logsumexp dims " + to_string(c.dims) + (c.keepdim ? " keepdim" : ""),
              .fn = [c](const Inputs& in) { return logsumexp(in[0], c.dims, c.keepdim); },
              .shapes = dim_shapes(), .domain = {-3.0, 3.0}, .no_scalar = "checked below"});
  }
  check_op({.name = "logsumexp 0-d", .fn = [](const Inputs& in) { return logsumexp(in[0], {0}); },
            .shapes = {{C()}, {St(4)}, {C(1)}}});
  // Large logits: the stable form keeps the gradient (softmax) finite and right.
  check_op({.name = "logsumexp large", .fn = [](const Inputs& in) { return logsumexp(add(in[0], 800.0), {1}); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {C(1, 1)}}, .no_scalar = "dim 1"});
}

TEST(ReduceForward, LogsumexpStable) {
  const Tensor x = tensor({1000, 1000, -1000, -1000}, {2, 2}, kFloat32);
  const std::vector<float> y = logsumexp(x, {1}).to_vector<float>();
  EXPECT_NEAR(y[0], 1000.0f + std::log(2.0f), 1e-3);
  EXPECT_NEAR(y[1], -1000.0f + std::log(2.0f), 1e-3);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(logsumexp(tensor({-inf, -inf}, {2}, kFloat64), {0}).item(), -inf);
}

TEST(ReduceGrad, SumTo) {
  const auto sum_to_case = [](Shape target) {
    return [target](const Inputs& in) { return sum_to(in[0], target); };
  };
  check_op({.name = "sum_to [3, 1]", .fn = sum_to_case({3, 1}),
            .shapes = {{C(2, 3, 4)}, {Tr(2, 3, 4)}, {C(3, 1)}, {C(3, 4)}, {Rev(2, 3, 2)}},
            .no_scalar = "the input needs at least the target's dims; sum_to [] takes a 0-d input below"});
  check_op({.name = "sum_to [4]", .fn = sum_to_case({4}), .shapes = {{C(2, 3, 4)}, {St(3, 4)}, {C(4)}},
            .no_scalar = "target [4]"});
  check_op({.name = "sum_to []", .fn = sum_to_case({}), .shapes = {{C(2, 3)}, {C()}, {Tr(2, 3)}}});
  check_op({.name = "sum_to [1, 1]", .fn = sum_to_case({1, 1}), .shapes = {{C(2, 3)}, {Tr(2, 3)}, {Pad(1, 3)}, {C(1, 1)}},
            .no_scalar = "target has 2 dims"});
  check_op({.name = "sum_to [2, 1, 4]", .fn = sum_to_case({2, 1, 4}), .shapes = {{C(3, 2, 3, 4)}, {St(2, 3, 4)}},
            .no_scalar = "target has 3 dims"});
}

// Reductions fed a permuted or sliced gradient from the ops after them.
TEST(ReduceGrad, NonContiguousUpstreamGradients) {
  check_op({.name = "max(x, 1, keepdim) then transpose",
            .fn = [](const Inputs& in) { return max(in[0], 1, true).values.transpose(0, 2); },
            .shapes = {{C(2, 3, 2)}, {Tr(2, 3, 2)}}, .no_scalar = "3-D"});
  check_op({.name = "amax then cat",
            .fn = [](const Inputs& in) { return cat({amax(in[0], {1}), in[1]}, 1); },
            .shapes = {{C(2, 3, 2), C(2, 1)}, {Rev(2, 3, 2), St(2, 3)}}, .no_scalar = "3-D"});
  check_op({.name = "sum then expand then transpose",
            .fn = [](const Inputs& in) { return sum(in[0], {1}, true).expand({2, 3, 2}).transpose(0, 1); },
            .shapes = {{C(2, 3, 2)}, {Tr(2, 2, 2)}}, .no_scalar = "3-D"});
  check_op({.name = "logsumexp and var of a transposed gradient",
            .fn = [](const Inputs& in) { return add(logsumexp(in[0], {0}), var(in[0], {0})).t(); },
            .shapes = {{C(3, 2, 2).in(-1, 1)}, {St(3, 2, 2)}}, .no_scalar = "3-D"});
}

TEST(ReduceForward, LargeTensorsMatchALoop) {
  // Above the parallel grain (32768 elements): the OpenMP paths of the reduction kernel.
  Generator g(5);
  const Tensor x = randn({300, 150}, g, kFloat64);
  const std::vector<double> v = x.to_vector<double>();
  const std::vector<double> rows = sum(x, {1}).to_vector<double>();
  const std::vector<double> cols = sum(x, {0}).to_vector<double>();
  const std::vector<double> col_max = amax(x, {0}).to_vector<double>();
  const std::vector<double> t_rows = sum(x.t(), {0}).to_vector<double>();
  for (std::int64_t i = 0; i < 300; ++i) {
    double acc = 0;
    for (std::int64_t j = 0; j < 150; ++j) acc += v[i * 150 + j];
    EXPECT_NEAR(rows[i], acc, 1e-9);
    EXPECT_NEAR(t_rows[i], acc, 1e-9);
  }
  for (std::int64_t j = 0; j < 150; ++j) {
    double acc = 0, m = -1e300;
    for (std::int64_t i = 0; i < 300; ++i) {
      acc += v[i * 150 + j];
      m = std::max(m, v[i * 150 + j]);
    }
    EXPECT_NEAR(cols[j], acc, 1e-9);
    EXPECT_EQ(col_max[j], m);
  }
  Tensor leaf = x.detach();
  leaf.requires_grad_();
  mean(leaf).backward();
  for (double gv : leaf.grad().to_vector<double>()) ASSERT_DOUBLE_EQ(gv, 1.0 / 45000.0);
}

TEST(ReduceForward, SumToValues) {
  const Tensor x = arange(0, 6, 1, kFloat64).reshape({2, 3});
  EXPECT_EQ(sum_to(x, {3}).to_vector<double>(), (std::vector<double>{3, 5, 7}));
  EXPECT_EQ(sum_to(x, {2, 1}).to_vector<double>(), (std::vector<double>{3, 12}));
  EXPECT_EQ(sum_to(x, {2, 1}).shape(), (Shape{2, 1}));
  EXPECT_EQ(sum_to(x, {}).item(), 15.0);
  EXPECT_TRUE(sum_to(x, {2, 3}).is_same(x));
}

TEST(ReduceForward, ZeroSizeInputs) {
  const auto one = [](OpFn fn) { return fn; };
  check_empty("sum", one([](const Inputs& in) { return sum(in[0]); }), {{0, 3}}, {});
  check_empty("sum dim 0", one([](const Inputs& in) { return sum(in[0], {0}); }), {{0, 3}}, {3});
  check_empty("sum dim 1", one([](const Inputs& in) { return sum(in[0], {1}, true); }), {{0, 3}}, {0, 1});
  check_empty("mean dim 1", one([](const Inputs& in) { return mean(in[0], {1}); }), {{0, 3}}, {0});
  check_empty("var dim 1", one([](const Inputs& in) { return var(in[0], {1}); }), {{0, 3}}, {0});
  check_empty("amax dim 1", one([](const Inputs& in) { return amax(in[0], {1}); }), {{0, 3}}, {0});
  check_empty("max dim 1", one([](const Inputs& in) { return max(in[0], 1).values; }), {{0, 3}}, {0});
  check_empty("logsumexp dim 1", one([](const Inputs& in) { return logsumexp(in[0], {1}); }), {{0, 3}}, {0});
  check_empty("logsumexp dim 0", one([](const Inputs& in) { return logsumexp(in[0], {0}); }), {{0, 3}}, {3});
  check_empty("sum_to", one([](const Inputs& in) { return sum_to(in[0], {1, 3}); }), {{0, 3}}, {1, 3});
  // Over an empty dim: the sum is 0, the mean nan, logsumexp -inf (as PyTorch).
  EXPECT_EQ(sum(zeros({0, 3}, kFloat64), {0}).to_vector<double>(), std::vector<double>(3, 0.0));
  EXPECT_TRUE(std::isnan(mean(zeros({0}, kFloat64)).item()));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(logsumexp(zeros({0, 3}, kFloat64), {0}).to_vector<double>(), std::vector<double>(3, -inf));
  EXPECT_EQ(logsumexp(zeros({2, 0}, kFloat32), {1}, true).to_vector<double>(), std::vector<double>(2, -inf));
}

// --- bad inputs -----------------------------------------------------------------------------------

TEST(ReduceErrors, DimOutOfRange) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(sum(x, {2}), IndexError, "sum", "dimension 2", "2 dimensions");
  EXPECT_THROW_WITH(sum(x, {-3}), IndexError, "sum", "-3");
  EXPECT_THROW_WITH(mean(x, {5}), IndexError, "mean", "5");
  EXPECT_THROW_WITH(amax(x, {2}), IndexError, "amax", "2");
  EXPECT_THROW_WITH(amin(x, {-3}), IndexError, "amin", "-3");
  EXPECT_THROW_WITH(max(x, 2), IndexError, "max", "2");
  EXPECT_THROW_WITH(min(x, -3), IndexError, "min", "-3");
  EXPECT_THROW_WITH(argmax(x, 2), IndexError, "argmax", "2");
  EXPECT_THROW_WITH(var(x, {2}), IndexError, "var", "2");
  EXPECT_THROW_WITH(logsumexp(x, {3}), IndexError, "logsumexp", "3");
  EXPECT_THROW_WITH(sum(scalar_tensor(1.0), {1}), IndexError, "sum", "1");
  EXPECT_THROW_WITH(sum(x, {1, -1}), IndexError, "sum", "twice");
}

TEST(ReduceErrors, Int64Inputs) {
  const Tensor i = tensor_int64({1, 2, 3, 4}, {2, 2});
  EXPECT_THROW_WITH(sum(i), DTypeError, "sum", "int64");
  EXPECT_THROW_WITH(sum(i, {0}), DTypeError, "sum", "int64");
  EXPECT_THROW_WITH(mean(i), DTypeError, "int64");
  EXPECT_THROW_WITH(max(i), DTypeError, "max", "int64");
  EXPECT_THROW_WITH(max(i, 0), DTypeError, "max", "int64");
  EXPECT_THROW_WITH(amin(i, {1}), DTypeError, "amin", "int64");
  EXPECT_THROW_WITH(logsumexp(i, {1}), DTypeError, "int64");
}

TEST(ReduceErrors, EmptyMax) {
  EXPECT_THROW_WITH(max(zeros({0, 3})), ShapeError, "max", "empty", "[0, 3]");
  EXPECT_THROW_WITH(max(zeros({2, 0}), 1), ShapeError, "max", "empty", "[2, 0]");
  // A sum over nothing is 0, as in PyTorch.
  EXPECT_EQ(sum(zeros({0, 3})).item(), 0.0);
}
