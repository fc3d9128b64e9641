// Gradient checks, view semantics and bad-input tests for the shape ops (descent/ops/shape.h).

#include <gtest/gtest.h>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

// An int64 index of `shape` with values (7 i + 3) mod n: repeats whenever it has more than n
// elements, and hits every position when it has at least n.
Tensor make_index(const Shape& shape, std::int64_t n) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(numel(shape)));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int64_t>(7 * i + 3) % n;
  return tensor_int64(values, shape);
}

bool same_storage(const Tensor& a, const Tensor& b) { return a.impl()->storage == b.impl()->storage; }

}  // namespace

// --- reshape, view, flatten -------------------------------------------------------------------------

TEST(ShapeGrad, Reshape) {
  check_op({.name = "reshape [2, 3] -> [3, 2]", .fn = [](const Inputs& in) { return reshape(in[0], {3, 2}); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {St(2, 3)}, {Pad(2, 3)}, {C(6)}, {Rev(3, 2)}},
            .no_scalar = "see the 0-d reshape below"});
  check_op({.name = "reshape -> [2, -1]", .fn = [](const Inputs& in) { return reshape(in[0], {2, -1}); },
            .shapes = {{C(2, 3)}, {Tr(3, 2)}, {Rev(2, 2, 3)}, {C(1, 4, 1)}}, .no_scalar = "see below"});
  check_op({.name = "reshape 0-d <-> [1, 1]", .fn = [](const Inputs& in) { return reshape(in[0], {1, 1}); },
            .shapes = {{C()}, {C(1)}, {St(1, 1)}}, .no_noncontig = "one-element inputs are contiguous"});
  check_op({.name = "reshape -> []", .fn = [](const Inputs& in) { return reshape(in[0], {}); },
            .shapes = {{C()}, {C(1, 1)}, {St(1)}}, .no_noncontig = "one-element inputs are contiguous"});
}

TEST(ShapeGrad, View) {
  check_op({.name = "view [2, 3] -> [3, 2]", .fn = [](const Inputs& in) { return view(in[0], {3, 2}); },
            .shapes = {{C(2, 3)}, {Pad(1, 6)}, {C(6)}, {St(6)}}, .no_scalar = "see below"});
  // Views of non-contiguous inputs whose strides allow them: splitting one dim, adding size-1 dims.
  check_op({.name = "view split dim 1", .fn = [](const Inputs& in) { return view(in[0], {4, 2, 3}); },
            .shapes = {{Tr(4, 6)}, {C(4, 6)}, {St(4, 6)}}, .no_scalar = "see below"});
  check_op({.name = "view add size-1 dims", .fn = [](const Inputs& in) { return view(in[0], {2, 1, 3, 1}); },
            .shapes = {{St(2, 3)}, {Tr(2, 3)}, {Pad(2, 3)}}, .no_scalar = "see below"});
  check_op({.name = "view 0-d", .fn = [](const Inputs& in) { return view(in[0], {1}); },
            .shapes = {{C()}, {St(1)}, {Tr(1, 1)}}, .no_noncontig = "one-element inputs are contiguous"});
}

TEST(ShapeGrad, Flatten) {
  check_op({.name = "flatten", .fn = [](const Inputs& in) { return flatten(in[0]); },
            .shapes = {{C(2, 3)}, {C()}, {Tr(2, 3)}, {Rev(2, 3, 2)}, {St(2, 2)}}});
  check_op({.name = "flatten(1, 2)", .fn = [](const Inputs& in) { return flatten(in[0], 1, 2); },
            .shapes = {{C(2, 3, 2)}, {Rev(2, 3, 2)}, {Tr(2, 3, 2)}, {C(1, 1, 1, 2)}}, .no_scalar = "needs 3 dims"});
}

// --- transpose, permute, squeeze, unsqueeze, expand --------------------------------------------------

TEST(ShapeGrad, TransposePermute) {
  check_op({.name = "transpose(0, 1)", .fn = [](const Inputs& in) { return transpose(in[0], 0, 1); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {St(2, 3)}, {C(1, 3)}, {Rev(2, 2, 3)}}, .no_scalar = "see below"});
  check_op({.name = "transpose(-1, -3)", .fn = [](const Inputs& in) { return transpose(in[0], -1, -3); },
            .shapes = {{C(2, 3, 2)}, {Tr(2, 3, 2)}, {Pad(2, 1, 2)}}, .no_scalar = "see below"});
  check_op({.name = "transpose 0-d", .fn = [](const Inputs& in) { return transpose(in[0], 0, -1); },
            .shapes = {{C()}, {St(3)}}});
  check_op({.name = "permute {2, 0, 1}", .fn = [](const Inputs& in) { return permute(in[0], {2, 0, 1}); },
            .shapes = {{C(2, 3, 2)}, {Rev(2, 3, 2)}, {St(2, 3, 2)}, {C(1, 2, 1)}}, .no_scalar = "see below"});
  check_op({.name = "permute {}", .fn = [](const Inputs& in) { return permute(in[0], {}); }, .shapes = {{C()}},
            .no_noncontig = "0-d only"});
}

TEST(ShapeGrad, SqueezeUnsqueeze) {
  check_op({.name = "squeeze", .fn = [](const Inputs& in) { return squeeze(in[0]); },
            .shapes = {{C(1, 3, 1)}, {C()}, {C(2, 3)}, {Tr(1, 2, 1)}, {St(1, 3)}, {C(1, 1)}}});
  check_op({.name = "squeeze(1)", .fn = [](const Inputs& in) { return squeeze(in[0], 1); },
            .shapes = {{C(2, 1, 3)}, {C(2, 3)}, {St(2, 1, 3)}, {Tr(2, 3)}}, .no_scalar = "see below"});
  check_op({.name = "squeeze(-1) of 0-d", .fn = [](const Inputs& in) { return squeeze(in[0], -1); },
            .shapes = {{C()}, {St(1)}, {St(3)}}});
  check_op({.name = "unsqueeze(0)", .fn = [](const Inputs& in) { return unsqueeze(in[0], 0); },
            .shapes = {{C(2, 3)}, {C()}, {Tr(2, 3)}, {St(3)}}});
  check_op({.name = "unsqueeze(-1)", .fn = [](const Inputs& in) { return unsqueeze(in[0], -1); },
            .shapes = {{C(2, 3)}, {C()}, {Rev(2, 3, 2)}, {Pad(3)}}});
  check_op({.name = "unsqueeze(1)", .fn = [](const Inputs& in) { return unsqueeze(in[0], 1); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {St(2, 2)}}, .no_scalar = "dim 1 is out of range for a 0-d input"});
}

TEST(ShapeGrad, Expand) {
  check_op({.name = "expand [3, 1] -> [2, 3, 4]", .fn = [](const Inputs& in) { return expand(in[0], {2, 3, 4}); },
            .shapes = {{C(3, 1)}, {St(3, 1)}, {C(3, 4)}, {Tr(3, 4)}, {C(1)}, {C()}}});
  check_op({.name = "expand [] -> [2, 2]", .fn = [](const Inputs& in) { return expand(in[0], {2, 2}); },
            .shapes = {{C()}, {C(1, 1)}, {St(1, 2)}}});
  check_op({.name = "expand -1 keeps a size", .fn = [](const Inputs& in) { return expand(in[0], {2, -1}); },
            .shapes = {{C(1, 3)}, {C(3)}, {Pad(1, 3)}, {Tr(2, 3)}}, .no_scalar = "-1 needs an existing dim"});
  // An expanded view fed to another op: mul then sums the broadcast back.
  check_op({.name = "mul(expand(x), y)",
            .fn = [](const Inputs& in) { return mul(expand(in[0], {2, 3}), in[1]); },
            .shapes = {{C(3), C(2, 3)}, {C(), Tr(2, 3)}, {St(2, 1), C(2, 3)}}});
}

// --- slice, select ------------------------------------------------------------------------------------

TEST(ShapeGrad, Slice) {
  check_op({.name = "slice(1, 0, 5, 2)", .fn = [](const Inputs& in) { return slice(in[0], 1, 0, 5, 2); },
            .shapes = {{C(2, 5)}, {Tr(2, 5)}, {St(2, 5)}, {C(1, 5)}, {Rev(3, 5)}}, .no_scalar = "slice needs 1+ dims"});
  check_op({.name = "slice(0, -3, -1)", .fn = [](const Inputs& in) { return slice(in[0], 0, -3, -1); },
            .shapes = {{C(4, 3)}, {Tr(4, 3)}, {C(5)}, {Pad(4, 2)}}, .no_scalar = "slice needs 1+ dims"});
  check_op({.name = "slice(-1, 1, 100, 3) clipped", .fn = [](const Inputs& in) { return slice(in[0], -1, 1, 100, 3); },
            .shapes = {{C(2, 7)}, {St(2, 7)}, {Tr(3, 5)}, {C(2)}}, .no_scalar = "slice needs 1+ dims"});
  check_op({.name = "slice empty", .fn = [](const Inputs& in) { return slice(in[0], 0, 2, 2); },
            .shapes = {{C(3, 2)}, {Tr(3, 2)}}, .no_scalar = "slice needs 1+ dims"});
  // Empty with a step: the backward must not turn start - step + 1 < 0 into a bound counted from the end.
  check_op({.name = "slice empty with step", .fn = [](const Inputs& in) { return slice(in[0], 1, 0, 0, 3); },
            .shapes = {{C(2, 5)}, {Tr(2, 5)}}, .no_scalar = "slice needs 1+ dims"});
  check_op({.name = "slice empty with step, used", .fn = [](const Inputs& in) {
              return add(sum(slice(in[0], 0, 1, 1, 2)), sum(in[0]));
            },
            .shapes = {{C(4)}, {St(3, 2)}}, .no_scalar = "slice needs 1+ dims"});
  // A slice of a slice, with steps on both.
  check_op({.name = "slice of slice", .fn = [](const Inputs& in) { return slice(slice(in[0], 1, 1, 9, 2), 1, 0, 4, 3); },
            .shapes = {{C(2, 9)}, {Tr(2, 9)}, {St(3, 9)}}, .no_scalar = "slice needs 1+ dims"});
}

TEST(ShapeGrad, Select) {
  check_op({.name = "select(0, 1)", .fn = [](const Inputs& in) { return select(in[0], 0, 1); },
            .shapes = {{C(3, 2)}, {Tr(3, 2)}, {St(2, 3)}, {C(2)}, {Rev(2, 2, 3)}},
            .no_scalar = "select needs 1+ dims (a 0-d output is checked with [2])"});
  check_op({.name = "select(-1, -1)", .fn = [](const Inputs& in) { return select(in[0], -1, -1); },
            .shapes = {{C(3, 2)}, {Tr(3, 2)}, {Pad(2, 3)}, {C(1)}}, .no_scalar = "select needs 1+ dims"});
  // Two selects of the same tensor: the gradients of both parts accumulate.
  check_op({.name = "select + select", .fn = [](const Inputs& in) { return mul(select(in[0], 1, 0), select(in[0], 1, 2)); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}}, .no_scalar = "select needs 1+ dims"});
}

// --- cat, stack ------------------------------------------------------------------------------------------

TEST(ShapeGrad, Cat) {
  check_op({.name = "cat dim 0", .fn = [](const Inputs& in) { return cat(in, 0); },
            .shapes = {{C(2, 3), Tr(1, 3), St(3, 3)}, {C(1, 2), C(1, 2)}, {Pad(2, 2), C(2, 2).nograd()}, {C(2), St(3)}},
            .no_scalar = "cat of 0-d tensors is a ShapeError"});
  check_op({.name = "cat dim 1", .fn = [](const Inputs& in) { return cat(in, 1); },
            .shapes = {{C(2, 1), Tr(2, 3), Pad(2, 2)}, {Rev(2, 2, 2), C(2, 1, 2)}}, .no_scalar = "cat of 0-d"});
  check_op({.name = "cat dim -1", .fn = [](const Inputs& in) { return cat(in, -1); },
            .shapes = {{C(2, 2, 1), Tr(2, 2, 3)}, {C(3), C(1), St(2)}}, .no_scalar = "cat of 0-d"});
  // The same tensor twice: both slices of the gradient reach it.
  check_op({.name = "cat({x, x})", .fn = [](const Inputs& in) { return cat({in[0], in[0]}, 1); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}}, .no_scalar = "cat of 0-d"});
}

TEST(ShapeGrad, Stack) {
  for (std::int64_t dim : {0, 1, -1}) {
    check_op({.name = "stack dim " + std::to_string(dim), .fn = [dim](const Inputs& in) { return stack(in, dim); },
              .shapes = {{C(2, 3), Tr(2, 3)}, {St(2, 2), C(2, 2), Pad(2, 2)}, {C(3), C(3).nograd()}}, .no_scalar = "below"});
  }
  check_op({.name = "stack 0-d", .fn = [](const Inputs& in) { return stack(in, 0); },
            .shapes = {{C(), C(), C()}, {C()}, {St(2), St(2)}}});
}

// Each shape op followed by ops whose backward hands it a non-contiguous (permuted, sliced)
// gradient, and shape ops chained into each other.
TEST(ShapeGrad, ChainsAndNonContiguousUpstreamGradients) {
  const Tensor idx = tensor_int64({1, 0, 1}, {3});
  check_op({.name = "index_select then transpose",
            .fn = [idx](const Inputs& in) { return index_select(in[0], 0, idx).transpose(0, 1); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}}, .no_scalar = "2-D"});
  check_op({.name = "gather then cat (sliced gradient)",
            .fn = [](const Inputs& in) { return cat({gather(in[0], 1, make_index({2, 4}, 3)), in[0]}, 1); },
            .shapes = {{C(2, 3)}, {Rev(2, 3)}}, .no_scalar = "2-D"});
  check_op({.name = "expand then reshape (copy of a stride-0 view)",
            .fn = [](const Inputs& in) { return reshape(expand(in[0], {2, 3, 4}), {6, 4}); },
            .shapes = {{C(3, 1)}, {C(1, 4)}, {C()}, {Tr(3, 4)}}});
  check_op({.name = "slice then view then permute",
            .fn = [](const Inputs& in) { return permute(view(slice(in[0], 0, 1, 4), {3, 2, 2}), {2, 0, 1}); },
            .shapes = {{C(5, 4)}, {Pad(4, 4)}}, .no_scalar = "2-D"});
  check_op({.name = "select of stack of transposes",
            .fn = [](const Inputs& in) { return select(stack({in[0].t(), in[1]}, 1), 2, 1); },
            .shapes = {{C(2, 3), C(3, 2)}, {Tr(2, 3), St(3, 2)}}, .no_scalar = "2-D"});
  check_op({.name = "squeeze unsqueeze flatten clone",
            .fn = [](const Inputs& in) { return clone(flatten(unsqueeze(squeeze(in[0]), 1))).slice(0, 0, 6, 2); },
            .shapes = {{C(2, 1, 3)}, {St(2, 1, 3)}, {Rev(3, 1, 2)}}, .no_scalar = "3-D"});
}

// --- index_select, gather -------------------------------------------------------------------------------

TEST(ShapeGrad, IndexSelectWithRepeats) {
  const Tensor idx = tensor_int64({2, 0, 2, 2}, {4});
  check_op({.name = "index_select dim 0", .fn = [idx](const Inputs& in) { return index_select(in[0], 0, idx); },
            .shapes = {{C(3, 2)}, {Tr(3, 2)}, {St(3, 2)}, {C(3)}, {Rev(3, 1, 2)}}, .no_scalar = "below"});
  check_op({.name = "index_select dim 1", .fn = [idx](const Inputs& in) { return index_select(in[0], 1, idx); },
            .shapes = {{C(2, 3)}, {Tr(2, 3)}, {Pad(1, 3)}, {Rev(2, 3, 2)}}, .no_scalar = "below"});
  check_op({.name = "index_select dim -1", .fn = [idx](const Inputs& in) { return index_select(in[0], -1, idx); },
            .shapes = {{C(2, 2, 3)}, {St(2, 1, 3)}}, .no_scalar = "below"});
  const Tensor zero = tensor_int64({0}, {1});
  check_op({.name = "index_select 0-d input / 0-d index",
            .fn = [zero](const Inputs& in) { return index_select(in[0], 0, zero); }, .shapes = {{C()}, {St(3)}}});
  check_op({.name = "index_select 0-d index",
            .fn = [](const Inputs& in) { return index_select(in[0], 0, tensor_int64({1}, {})); },
            .shapes = {{C(3, 2)}, {Tr(2, 2)}}, .no_scalar = "above"});
}

TEST(ShapeForward, IndexSelectValues) {
  const Tensor x = arange(0, 6, 1, kFloat64).reshape({2, 3});
  EXPECT_EQ(index_select(x, 1, tensor_int64({2, 2, 0}, {3})).to_vector<double>(),
            (std::vector<double>{2, 2, 0, 5, 5, 3}));
  EXPECT_EQ(index_select(x.t(), 0, tensor_int64({1}, {1})).to_vector<double>(), (std::vector<double>{1, 4}));
  EXPECT_EQ(index_select(x, 0, tensor_int64({}, {0})).shape(), (Shape{0, 3}));
  // Repeated indices accumulate in the gradient.
  Tensor w = ones({3}, kFloat64);
  w.requires_grad_();
  sum(index_select(w, 0, tensor_int64({2, 0, 2, 2}, {4}))).backward();
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{1, 0, 3}));
}

TEST(ShapeGrad, Gather) {
  const auto gather_case = [](std::int64_t dim, Tensor index) {
    return [dim, index](const Inputs& in) { return gather(in[0], dim, index); };
  };
  // Index larger than the input along dim (repeats), equal elsewhere.
  check_op({.name = "gather dim 0", .fn = gather_case(0, make_index({5, 4}, 3)),
            .shapes = {{C(3, 4)}, {Tr(3, 4)}, {St(3, 4)}, {Rev(3, 4)}}, .no_scalar = "below"});
  // Index smaller than the input outside dim.
  check_op({.name = "gather dim 1, smaller index", .fn = gather_case(1, make_index({2, 3}, 4)),
            .shapes = {{C(3, 4)}, {Tr(3, 4)}, {Pad(3, 4)}}, .no_scalar = "below"});
  check_op({.name = "gather dim -1 3-D", .fn = gather_case(-1, make_index({2, 1, 4}, 3)),
            .shapes = {{C(2, 2, 3)}, {Rev(2, 2, 3)}, {St(2, 1, 3)}}, .no_scalar = "below"});
  check_op({.name = "gather 1-D", .fn = gather_case(0, make_index({6}, 4)),
            .shapes = {{C(4)}, {St(4)}}, .no_scalar = "below"});
  check_op({.name = "gather 0-d", .fn = gather_case(0, tensor_int64({0}, {})), .shapes = {{C()}},
            .no_noncontig = "0-d only"});
}

TEST(ShapeForward, GatherValues) {
  const Tensor x = arange(0, 6, 1, kFloat64).reshape({2, 3});
  EXPECT_EQ(gather(x, 1, tensor_int64({2, 0, 1, 1}, {2, 2})).to_vector<double>(), (std::vector<double>{2, 0, 4, 4}));
  EXPECT_EQ(gather(x, 0, tensor_int64({1, 0, 1}, {1, 3})).to_vector<double>(), (std::vector<double>{3, 1, 5}));
  EXPECT_EQ(gather(x.t(), 0, tensor_int64({2, 0}, {1, 2})).to_vector<double>(), (std::vector<double>{2, 3}));
}

// --- copies -----------------------------------------------------------------------------------------------

TEST(ShapeGrad, CloneContiguousTo) {
  const std::vector<std::vector<Arg>> shapes = {{C(2, 3)}, {C()}, {Tr(2, 3)}, {St(2, 3)}, {Rev(2, 3, 2)}, {Pad(1, 2)}};
  check_op({.name = "clone", .fn = [](const Inputs& in) { return clone(in[0]); }, .shapes = shapes});
  check_op({.name = "contiguous", .fn = [](const Inputs& in) { return contiguous(in[0]); }, .shapes = shapes});
  check_op({.name = "to float64 (no-op)", .fn = [](const Inputs& in) { return to(in[0], kFloat64); }, .shapes = shapes});
  // Through float32 and back: the function is the identity up to float32 rounding (relative
  // 6e-8), so a large step keeps the rounding out of the finite differences.
  check_op({.name = "to float32 and back",
            .fn = [](const Inputs& in) { return to(mul(to(in[0], kFloat32), 3.0), kFloat64); },
            .shapes = shapes, .eps = 1e-2, .atol = 1e-4});
}

TEST(ShapeForward, ToConvertsTheGradientBack) {
  Tensor x = tensor({1.5, -2.0}, {2}, kFloat32);
  x.requires_grad_();
  const Tensor y = to(x, kFloat64);
  EXPECT_EQ(y.dtype(), kFloat64);
  sum(mul(y, tensor({3.0, 4.0}, {2}, kFloat64))).backward();
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3.0f, 4.0f}));
  EXPECT_EQ(to(tensor_int64({3}, {1}), kFloat64).to_vector<double>(), (std::vector<double>{3.0}));
}

TEST(ShapeForward, CloneAndContiguousCopy) {
  const Tensor x = arange(0, 6, 1, kFloat64).reshape({2, 3});
  const Tensor c = clone(x);
  EXPECT_FALSE(same_storage(c, x));
  c.set({0, 0}, 42);
  EXPECT_EQ(x.at({0, 0}), 0.0);
  EXPECT_TRUE(contiguous(x).is_same(x));
  const Tensor t = contiguous(x.t());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

// --- view semantics ---------------------------------------------------------------------------------------

TEST(ShapeForward, ViewSharesStorage) {
  const Tensor x = zeros({2, 3}, kFloat64);
  const Tensor v = x.view({3, 2});
  EXPECT_TRUE(same_storage(v, x));
  v.set({0, 1}, 5.0);  // element 1 in row-major order
  EXPECT_EQ(x.at({0, 1}), 5.0);
  x.set({1, 2}, 7.0);  // element 5
  EXPECT_EQ(v.at({2, 1}), 7.0);
  // Every view op shares storage.
  for (const Tensor& w : {x.t(), x.unsqueeze(0), x.slice(1, 0, 3, 2), x.select(0, 1), x.expand({4, 2, 3}),
                          x.permute({1, 0}), x.reshape({6}), x.flatten(), x.unsqueeze(1).squeeze()}) {
    EXPECT_TRUE(same_storage(w, x));
  }
  x.slice(1, 0, 3, 2).set({1, 1}, -1.0);
  EXPECT_EQ(x.at({1, 2}), -1.0);
  x.select(0, 1).set({0}, 9.0);
  EXPECT_EQ(x.at({1, 0}), 9.0);
}

TEST(ShapeForward, ReshapeOfNonContiguousCopies) {
  const Tensor x = arange(0, 6, 1, kFloat64).reshape({2, 3});
  const Tensor r = x.t().reshape({6});
  EXPECT_FALSE(same_storage(r, x));
  EXPECT_EQ(r.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  r.set({0}, 100.0);
  EXPECT_EQ(x.at({0, 0}), 0.0);
  // A strided slice cannot be flattened without a copy either; one that can be viewed is not copied.
  EXPECT_FALSE(same_storage(x.slice(1, 0, 3, 2).reshape({4}), x));
  EXPECT_TRUE(same_storage(x.t().reshape({3, 2, 1}), x));
  EXPECT_TRUE(same_storage(x.reshape({3, 2}), x));
}

TEST(ShapeForward, TransposeRoundTrips) {
  Generator g(3);
  const Tensor x = randn({2, 3, 4}, g, kFloat64);
  const Tensor back = x.transpose(0, 2).transpose(0, 2);
  EXPECT_EQ(back.shape(), x.shape());
  EXPECT_EQ(back.strides(), x.strides());
  EXPECT_TRUE(back.is_contiguous());
  EXPECT_EQ(back.to_vector<double>(), x.to_vector<double>());
  const Tensor m = randn({3, 4}, g, kFloat64);
  EXPECT_EQ(m.t().t().strides(), m.strides());
  EXPECT_EQ(m.t().t().to_vector<double>(), m.to_vector<double>());
  const Tensor p = x.permute({2, 0, 1}).permute({1, 2, 0});
  EXPECT_EQ(p.shape(), x.shape());
  EXPECT_EQ(p.to_vector<double>(), x.to_vector<double>());
}

TEST(ShapeForward, ShapesAndStrides) {
  const Tensor x = zeros({2, 1, 3}, kFloat64);
  EXPECT_EQ(x.squeeze().shape(), (Shape{2, 3}));
  EXPECT_EQ(x.squeeze(0).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(x.squeeze(-2).shape(), (Shape{2, 3}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 1, 3, 1}));
  EXPECT_EQ(x.expand({4, 2, 5, 3}).strides(), (Strides{0, 3, 0, 1}));
  EXPECT_EQ(x.flatten(0, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(scalar_tensor(2.0).flatten().shape(), (Shape{1}));
  EXPECT_EQ(zeros({7}).slice(0, 1, 100, 3).shape(), (Shape{2}));
  EXPECT_EQ(zeros({7}).slice(0, -2, 7).shape(), (Shape{2}));
  EXPECT_EQ(zeros({7}).slice(0, 5, 2).shape(), (Shape{0}));
  EXPECT_EQ(stack({zeros({2, 3}), zeros({2, 3})}, -1).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(cat({zeros({2, 3}), zeros({2, 1})}, 1).shape(), (Shape{2, 4}));
  EXPECT_EQ(arange(0, 6, 1).reshape({2, 3}).slice(1, 0, 3, 2).to_vector<float>(), (std::vector<float>{0, 2, 3, 5}));
}

TEST(ShapeForward, ZeroSizeInputs) {
  const auto one = [](OpFn fn) { return fn; };
  check_empty("reshape", one([](const Inputs& in) { return reshape(in[0], {3, -1}); }), {{0, 3}}, {3, 0});
  check_empty("view", one([](const Inputs& in) { return view(in[0], {3, 0}); }), {{0, 3}}, {3, 0});
  check_empty("flatten", one([](const Inputs& in) { return flatten(in[0]); }), {{0, 3}}, {0});
  check_empty("transpose", one([](const Inputs& in) { return in[0].t(); }), {{0, 3}}, {3, 0});
  check_empty("expand", one([](const Inputs& in) { return expand(in[0], {2, 0, 3}); }), {{0, 3}}, {2, 0, 3});
  check_empty("expand a size-1 dim to 0", one([](const Inputs& in) { return expand(in[0], {0, 3}); }), {{1, 3}},
              {0, 3});
  check_empty("slice", one([](const Inputs& in) { return slice(in[0], 1, 0, 3, 2); }), {{0, 3}}, {0, 2});
  check_empty("select", one([](const Inputs& in) { return select(in[0], 1, 2); }), {{0, 3}}, {0});
  check_empty("cat", one([](const Inputs& in) { return cat(in, 0); }), {{0, 3}, {2, 3}}, {2, 3});
  check_empty("stack", one([](const Inputs& in) { return stack(in, 1); }), {{0, 3}, {0, 3}}, {0, 2, 3});
  check_empty("index_select", one([](const Inputs& in) { return index_select(in[0], 1, tensor_int64({2, 2}, {2})); }),
              {{0, 3}}, {0, 2});
  check_empty("index_select empty index",
              one([](const Inputs& in) { return index_select(in[0], 0, tensor_int64({}, {0})); }), {{2, 3}}, {0, 3});
  check_empty("gather", one([](const Inputs& in) { return gather(in[0], 1, tensor_int64({}, {0, 2})); }), {{0, 3}},
              {0, 2});
  check_empty("clone", one([](const Inputs& in) { return clone(in[0]); }), {{0, 3}}, {0, 3});
  check_empty("to", one([](const Inputs& in) { return to(in[0], kFloat32); }), {{0, 3}}, {0, 3});
}

TEST(ShapeForward, NonContiguousIndex) {
  const Tensor x = arange(0, 6, 1, kFloat64).reshape({2, 3});
  const Tensor index = tensor_int64({0, 1, 1, 0, 2, 2}, {3, 2}).t();  // [2, 3]: [[0, 1, 2], [1, 0, 2]]
  EXPECT_FALSE(index.is_contiguous());
  EXPECT_EQ(gather(x, 1, index).to_vector<double>(), (std::vector<double>{0, 1, 2, 4, 3, 5}));
  EXPECT_EQ(index_select(x, 1, index.select(0, 1)).to_vector<double>(), (std::vector<double>{1, 0, 2, 4, 3, 5}));
  EXPECT_EQ(index_select(x, 1, tensor_int64({0, 9, 2, 9}, {4}).slice(0, 0, 4, 2)).to_vector<double>(),
            (std::vector<double>{0, 2, 3, 5}));
}

// --- bad inputs ---------------------------------------------------------------------------------------------

TEST(ShapeErrors, DimOutOfRange) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(transpose(x, 0, 2), IndexError, "transpose", "2");
  EXPECT_THROW_WITH(permute(x, {0, 2}), IndexError, "permute", "2");
  EXPECT_THROW_WITH(squeeze(x, 2), IndexError, "squeeze", "2");
  EXPECT_THROW_WITH(unsqueeze(x, 3), IndexError, "unsqueeze", "3");
  EXPECT_THROW_WITH(unsqueeze(x, -4), IndexError, "unsqueeze", "-4");
  EXPECT_THROW_WITH(slice(x, 2, 0, 1), IndexError, "slice", "2");
  EXPECT_THROW_WITH(select(x, -3, 0), IndexError, "select", "-3");
  EXPECT_THROW_WITH(flatten(x, 0, 2), IndexError, "flatten", "2");
  EXPECT_THROW_WITH(cat({x, x}, 2), IndexError, "cat", "2");
  EXPECT_THROW_WITH(stack({x, x}, 3), IndexError, "stack", "3");
  EXPECT_THROW_WITH(index_select(x, 2, tensor_int64({0}, {1})), IndexError, "index_select", "2");
  EXPECT_THROW_WITH(gather(x, 2, tensor_int64({0, 0}, {1, 2})), IndexError, "gather", "2");
  EXPECT_THROW_WITH(x.size(2), IndexError, "2");
}

TEST(ShapeErrors, PermuteAndFlattenArguments) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(permute(x, {0, 0}), IndexError, "permute", "repeated");
  EXPECT_THROW_WITH(permute(x, {0}), ShapeError, "permute", "[2, 3]");
  EXPECT_THROW_WITH(flatten(zeros({2, 3, 4}), 2, 1), IndexError, "flatten");
  EXPECT_THROW_WITH(slice(x, 0, 0, 2, 0), ValueError, "slice", "step");
  EXPECT_THROW_WITH(slice(scalar_tensor(1.0), 0, 0, 1), ShapeError, "slice", "0-dimensional");
  EXPECT_THROW_WITH(select(scalar_tensor(1.0), 0, 0), ShapeError, "select", "0-dimensional");
}

TEST(ShapeErrors, ViewOnIncompatibleStrides) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(x.t().view({6}), ShapeError, "view", "[6]", "[3, 2]", "reshape");
  EXPECT_THROW_WITH(x.slice(1, 0, 3, 2).view({4}), ShapeError, "view", "strides");
  EXPECT_THROW_WITH(zeros({2, 3, 4}).transpose(0, 1).view({6, 4}), ShapeError, "view", "[6, 4]");
}

TEST(ShapeErrors, ReshapeToWrongElementCount) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(reshape(x, {4}), ShapeError, "reshape", "[4]", "[2, 3]", "6");
  EXPECT_THROW_WITH(x.reshape({4, -1}), ShapeError, "reshape", "[4, -1]");
  EXPECT_THROW_WITH(x.reshape({-1, -1}), ShapeError, "reshape", "-1");
  EXPECT_THROW_WITH(x.reshape({-2, 3}), ShapeError, "reshape", "-2");
  EXPECT_THROW_WITH(x.view({7}), ShapeError, "view", "[7]");
  EXPECT_THROW_WITH(zeros({0, 3}).reshape({-1, 0}), ShapeError, "reshape");
}

TEST(ShapeErrors, ExpandIncompatible) {
  EXPECT_THROW_WITH(expand(zeros({2, 3}), {2, 4}), ShapeError, "expand", "[2, 3]", "[2, 4]");
  EXPECT_THROW_WITH(expand(zeros({2, 3}), {3}), ShapeError, "expand", "[2, 3]", "[3]");
  EXPECT_THROW_WITH(expand(zeros({3}), {-1, 3}), ShapeError, "expand", "-1");
}

TEST(ShapeErrors, CatAndStackMismatch) {
  const Tensor a = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(cat({a, zeros({2, 4}, kFloat64)}, 0), ShapeError, "cat", "[2, 4]", "[2, 3]");
  EXPECT_THROW_WITH(cat({a, zeros({3}, kFloat64)}, 0), ShapeError, "cat", "[3]", "[2, 3]");
  EXPECT_THROW_WITH(cat({a, zeros({2, 3}, kFloat32)}, 0), DTypeError, "cat", "float32", "float64");
  EXPECT_THROW_WITH(cat({scalar_tensor(1.0), scalar_tensor(2.0)}, 0), ShapeError, "cat", "zero-dimensional");
  EXPECT_THROW_WITH(cat({}, 0), ValueError, "cat", "empty");
  EXPECT_THROW_WITH(stack({a, zeros({3, 2}, kFloat64)}, 0), ShapeError, "stack", "[3, 2]", "[2, 3]");
  EXPECT_THROW_WITH(stack({}, 0), ValueError, "stack");
}

TEST(ShapeErrors, IndexOutOfRange) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(index_select(x, 1, tensor_int64({0, 3}, {2})), IndexError, "index_select", "3", "[2, 3]");
  EXPECT_THROW_WITH(index_select(x, 0, tensor_int64({-1}, {1})), IndexError, "index_select", "-1");
  EXPECT_THROW_WITH(gather(x, 0, tensor_int64({0, 2}, {1, 2})), IndexError, "gather", "2", "[2, 3]");
  EXPECT_THROW_WITH(gather(x, 1, tensor_int64({-1}, {1, 1})), IndexError, "gather", "-1");
  EXPECT_THROW_WITH(select(x, 1, 3), IndexError, "select", "3", "[2, 3]");
  EXPECT_THROW_WITH(select(x, 0, -3), IndexError, "select", "-3");
  // A 0-d input has one position: an index with more entries does not fit (PyTorch: IndexError).
  EXPECT_THROW_WITH(index_select(scalar_tensor(1.0, kFloat64), 0, tensor_int64({0, 0}, {2})), IndexError,
                    "index_select", "0-dimensional");
}

TEST(ShapeErrors, IndexShapes) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(index_select(x, 0, tensor_int64({0, 1}, {1, 2})), ShapeError, "index_select", "[1, 2]");
  EXPECT_THROW_WITH(gather(x, 0, tensor_int64({0, 1}, {2})), ShapeError, "gather", "[2]", "[2, 3]");
  EXPECT_THROW_WITH(gather(x, 0, tensor_int64({0, 0, 0, 0}, {1, 4})), ShapeError, "gather", "[1, 4]", "[2, 3]");
}

TEST(ShapeErrors, NonInt64Index) {
  const Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_THROW_WITH(index_select(x, 0, tensor({0, 1}, {2}, kFloat32)), DTypeError, "index_select", "int64", "float32");
  EXPECT_THROW_WITH(gather(x, 0, tensor({0, 1}, {1, 2}, kFloat64)), DTypeError, "gather", "int64", "float64");
}

TEST(ShapeErrors, ToAndGradDTypes) {
  Tensor x = zeros({2}, kFloat64);
  x.requires_grad_();
  EXPECT_THROW_WITH(to(x, kInt64), DTypeError, "to", "int64");
  EXPECT_THROW_WITH(index_select(tensor_int64({1, 2}, {2}), 0, tensor_int64({0}, {1})), DTypeError, "index_select",
                    "int64");
}
