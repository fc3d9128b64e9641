// Gradient checks, exact values (from PyTorch 1.13) and bad inputs for max_pool2d, avg_pool2d and
// adaptive_avg_pool2d (descent/ops/conv.h).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

const char* kNoScalar = "pooling takes 3-D or 4-D images";

// Values 0, 0.01, ..., in a fixed scrambled order ((389 i) mod 1009 is a permutation for i < 1009),
// added to inputs drawn from [0, 0.004]: the elements of a window are then at least 0.006 apart, so
// the finite differences of max pooling never straddle a tie.
Tensor distinct_like(const Tensor& x) {
  std::vector<double> v(static_cast<std::size_t>(x.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((389 * i) % 1009) * 0.01;
  return tensor(v, x.shape(), x.dtype());
}

OpFn max_fn(MaxPool2dParams p) {
  return [p](const Inputs& in) { return max_pool2d(add(in[0], distinct_like(in[0])), p); };
}

OpSpec max_spec(const std::string& name, MaxPool2dParams p, std::vector<std::vector<Arg>> shapes) {
  return {.name = name, .fn = max_fn(p), .shapes = std::move(shapes), .domain = {0.0, 0.004}, .no_scalar = kNoScalar};
}

OpFn avg_fn(AvgPool2dParams p) {
  return [p](const Inputs& in) { return avg_pool2d(in[0], p); };
}

OpFn adaptive_fn(Size2d size) {
  return [size](const Inputs& in) { return adaptive_avg_pool2d(in[0], size); };
}

// The usual layouts: batched, unbatched and odd sizes, and the non-contiguous views.
std::vector<std::vector<Arg>> pool_shapes() {
  return {{C(2, 3, 6, 6)},  {C(3, 7, 5)},      {C(1, 1, 7, 5)},  {Tr(2, 2, 5, 7)},
          {St(1, 2, 6, 5)}, {Pad(2, 1, 5, 6)}, {Rev(2, 2, 6, 7)}};
}

// Few distinct values in a scrambled order (a multiplicative hash, then a shift: neighbours are
// unrelated), with NaNs of both signs, infinities and -0.0, so that 2x2 windows hold ties, several
// NaNs, NaNs next to infinities and -0.0 next to +0.0.
double tricky_value(std::size_t i) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 31;
  const std::uint64_t r = h % 97;
  return r < 3 ? nan : r < 6 ? -nan : r < 10 ? -inf : r < 13 ? inf : r < 18 ? -0.0 : static_cast<double>(r % 5);
}

// Equal as IEEE values with the same sign bit: -0.0 and +0.0 differ, NaNs agree when their signs do.
void expect_same_value(double got, double want, const std::string& where) {
  EXPECT_EQ(std::isnan(got), std::isnan(want)) << where;
  if (!std::isnan(want)) EXPECT_EQ(got, want) << where;
  EXPECT_EQ(std::signbit(got), std::signbit(want)) << where;
}

Tensor arange_image(std::int64_t h, std::int64_t w) {
  return arange(0, static_cast<double>(h * w), 1, kFloat64).reshape({1, h, w});
}

void expect_values(const Tensor& t, const Shape& shape, const std::vector<double>& want, double tol = 1e-9) {
  ASSERT_EQ(t.shape(), shape);
  const std::vector<double> got = t.to_vector<double>();
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

void expect_indices(const Tensor& t, const Shape& shape, const std::vector<std::int64_t>& want) {
  ASSERT_EQ(t.dtype(), kInt64);
  ASSERT_EQ(t.shape(), shape);
  EXPECT_EQ(t.to_vector<std::int64_t>(), want);
}

// d sum(f(x)) / dx for a float64 leaf copy of x.
Tensor grad_of_sum(const Tensor& x, const std::function<Tensor(const Tensor&)>& f) {
  const Tensor leaf = x.detach().clone().requires_grad_();
  sum(f(leaf)).backward();
  return leaf.grad();
}

}  // namespace

// --- gradients ---------------------------------------------------------------------------------------

TEST(PoolGrad, MaxPool2d) {
  check_op(max_spec("max_pool2d 2", {.kernel_size = 2}, pool_shapes()));
  check_op(max_spec("max_pool2d 3 stride 1 (overlapping)", {.kernel_size = 3, .stride = 1}, pool_shapes()));
  check_op(max_spec("max_pool2d 3 stride 2 pad 1", {.kernel_size = 3, .stride = 2, .padding = 1}, pool_shapes()));
  check_op(max_spec("max_pool2d 3 stride 2 pad 1 ceil",
                    {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true}, pool_shapes()));
  check_op(max_spec("max_pool2d 2 ceil", {.kernel_size = 2, .ceil_mode = true}, pool_shapes()));
  check_op(max_spec("max_pool2d 3 dilation 2 pad 1", {.kernel_size = 3, .stride = 1, .padding = 1, .dilation = 2},
                    {{C(2, 2, 7, 5)}, {C(2, 6, 6)}, {Tr(1, 2, 6, 7)}}));
  check_op(max_spec(
      "max_pool2d (2, 3) stride (3, 1) pad (1, 1) dilation (1, 2) ceil",
      {.kernel_size = {2, 3}, .stride = Size2d{3, 1}, .padding = {1, 1}, .dilation = {1, 2}, .ceil_mode = true},
      {{C(2, 2, 7, 5)}, {C(3, 8, 6)}, {St(1, 2, 5, 7)}, {Rev(1, 2, 7, 6)}}));
  check_op(
      max_spec("max_pool2d 2 stride 3 (gaps)", {.kernel_size = 2, .stride = 3}, {{C(2, 2, 7, 8)}, {Pad(2, 6, 5)}}));
  check_op(max_spec("max_pool2d 1", {.kernel_size = 1}, {{C(2, 2, 3, 4)}, {Tr(2, 4, 3)}}));
  check_op(max_spec("max_pool2d whole image", {.kernel_size = {7, 5}}, {{C(2, 3, 7, 5)}, {Tr(3, 7, 5)}}));
}

TEST(PoolGrad, AvgPool2d) {
  const auto spec = [](const std::string& name, AvgPool2dParams p, std::vector<std::vector<Arg>> shapes) {
    return OpSpec{.name = name, .fn = avg_fn(p), .shapes = std::move(shapes), .no_scalar = kNoScalar};
  };
  check_op(spec("avg_pool2d 2", {.kernel_size = 2}, pool_shapes()));
  check_op(spec("avg_pool2d 3 stride 1", {.kernel_size = 3, .stride = 1}, pool_shapes()));
  check_op(spec("avg_pool2d 3 stride 2 pad 1", {.kernel_size = 3, .stride = 2, .padding = 1}, pool_shapes()));
  check_op(spec("avg_pool2d 3 stride 2 pad 1 exclude pad",
                {.kernel_size = 3, .stride = 2, .padding = 1, .count_include_pad = false}, pool_shapes()));
  check_op(spec("avg_pool2d 3 stride 2 pad 1 ceil", {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true},
                pool_shapes()));
  check_op(spec("avg_pool2d 3 stride 2 pad 1 ceil exclude pad",
                {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false},
                pool_shapes()));
  check_op(spec("avg_pool2d 2 ceil", {.kernel_size = 2, .ceil_mode = true}, pool_shapes()));
  check_op(spec("avg_pool2d (2, 3) stride (3, 1) pad (1, 1) divisor 5",
                {.kernel_size = {2, 3}, .stride = Size2d{3, 1}, .padding = {1, 1}, .divisor_override = 5},
                {{C(2, 2, 7, 5)}, {C(3, 8, 6)}, {Tr(1, 2, 5, 7)}}));
  check_op(spec("avg_pool2d 2 ceil divisor -3", {.kernel_size = 2, .ceil_mode = true, .divisor_override = -3},
                {{C(1, 2, 7, 5)}, {Rev(2, 5, 7)}}));
}

TEST(PoolGrad, AdaptiveAvgPool2d) {
  const auto spec = [](const std::string& name, Size2d size) {
    return OpSpec{.name = name, .fn = adaptive_fn(size), .shapes = pool_shapes(), .no_scalar = kNoScalar};
  };
  check_op(spec("adaptive_avg_pool2d 1 (global)", 1));
  check_op(spec("adaptive_avg_pool2d (3, 2)", {3, 2}));
  check_op(spec("adaptive_avg_pool2d (2, 4)", {2, 4}));
  check_op(spec("adaptive_avg_pool2d 5", 5));
  check_op(spec("adaptive_avg_pool2d (9, 8) larger than the input", {9, 8}));
}

// --- exact values ------------------------------------------------------------------------------------

TEST(PoolForward, MaxPool2dValuesAndIndices) {
  // 4x4 0..15, 2x2 windows: the bottom-right element of each.
  {
    const Tensor x = arange(0, 16, 1, kFloat32).reshape({1, 1, 4, 4});
    auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 2});
    expect_values(y, {1, 1, 2, 2}, {5, 7, 13, 15});
    expect_indices(idx, {1, 1, 2, 2}, {5, 7, 13, 15});
  }
  // 7x5 0..34, kernel 3 stride 2 pad 1 ceil_mode (the same size as without: 4x3).
  {
    auto [y, idx] =
        max_pool2d_with_indices(arange_image(7, 5), {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true});
    expect_values(y, {1, 4, 3}, {6, 8, 9, 16, 18, 19, 26, 28, 29, 31, 33, 34});
    expect_indices(idx, {1, 4, 3}, {6, 8, 9, 16, 18, 19, 26, 28, 29, 31, 33, 34});
    EXPECT_EQ(max_pool2d(arange_image(7, 5), {.kernel_size = 3, .stride = 2, .padding = 1}).shape(), (Shape{1, 4, 3}));
    // kernel 2 ceil_mode: the last row and column of windows hang over the border (3x2 without ceil_mode).
    auto [yc, idxc] = max_pool2d_with_indices(arange_image(7, 5), {.kernel_size = 2, .ceil_mode = true});
    expect_values(yc, {1, 4, 3}, {6, 8, 9, 16, 18, 19, 26, 28, 29, 31, 33, 34});
    expect_indices(idxc, {1, 4, 3}, {6, 8, 9, 16, 18, 19, 26, 28, 29, 31, 33, 34});
    EXPECT_EQ(max_pool2d(arange_image(7, 5), {.kernel_size = 2}).shape(), (Shape{1, 3, 2}));
  }
  // Non-square everything: kernel (2, 3), stride (3, 1), padding (1, 1), dilation (1, 2).
  {
    auto [y, idx] = max_pool2d_with_indices(
        arange_image(7, 5), {.kernel_size = {2, 3}, .stride = Size2d{3, 1}, .padding = {1, 1}, .dilation = {1, 2}});
    expect_values(y, {1, 3, 3}, {3, 4, 3, 18, 19, 18, 33, 34, 33});
    expect_indices(idx, {1, 3, 3}, {3, 4, 3, 18, 19, 18, 33, 34, 33});
  }
  // Overlapping windows and dilation on a 4x4 image with repeated values (the first maximum wins).
  {
    const Tensor b = tensor({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3}, {1, 4, 4});
    auto [y, idx] = max_pool2d_with_indices(b, {.kernel_size = 3, .stride = 1, .padding = 1});
    expect_values(y, {1, 4, 4}, {9, 9, 9, 6, 9, 9, 9, 8, 9, 9, 9, 9, 9, 9, 9, 9});
    expect_indices(idx, {1, 4, 4}, {5, 5, 5, 7, 5, 5, 5, 11, 5, 5, 5, 14, 12, 12, 14, 14});
    auto [yd, idxd] = max_pool2d_with_indices(b, {.kernel_size = 2, .stride = 1, .dilation = 2});
    expect_values(yd, {1, 2, 2}, {5, 8, 9, 9});
    expect_indices(idxd, {1, 2, 2}, {8, 11, 12, 5});
  }
  // ceil_mode gives one window even where the dilated kernel is longer than the image (PyTorch's
  // output size; window_output_size would say 0): taps 0, 2, 4 of 0..5, tap 6 clipped.
  {
    auto [y, idx] = max_pool2d_with_indices(arange(0, 6, 1, kFloat32).reshape({1, 1, 1, 6}),
                                            {.kernel_size = {1, 4}, .stride = 3, .dilation = 2, .ceil_mode = true});
    expect_values(y, {1, 1, 1, 1}, {4});
    expect_indices(idx, {1, 1, 1, 1}, {4});
    expect_values(max_pool2d(full({1, 1, 1}, 3.0), {.kernel_size = 2, .ceil_mode = true}), {1, 1, 1}, {3});
  }
  // The -inf padding is never chosen, even over negative values.
  {
    auto [y, idx] =
        max_pool2d_with_indices(tensor({-1, -2, -3, -4}, {1, 2, 2}), {.kernel_size = 2, .stride = 1, .padding = 1});
    expect_values(y, {1, 3, 3}, {-1, -1, -2, -1, -1, -2, -3, -3, -4});
    expect_indices(idx, {1, 3, 3}, {0, 0, 1, 0, 0, 1, 2, 2, 3});
  }
}

TEST(PoolForward, MaxPool2dTiesNanInfinity) {
  // Ties: the first maximum (row-major) takes the index and the whole gradient.
  {
    const Tensor x = ones({1, 2, 2}, kFloat64).requires_grad_();
    auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 2});
    expect_indices(idx, {1, 1, 1}, {0});
    sum(y).backward();
    expect_values(x.grad(), {1, 2, 2}, {1, 0, 0, 0});
  }
  // NaN is the maximum, as in PyTorch; of several NaNs the last one's index is kept.
  {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const Tensor x = tensor({1, nan, 3, 4}, {1, 2, 2}, kFloat64).requires_grad_();
    auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 2});
    EXPECT_TRUE(std::isnan(y.item()));
    expect_indices(idx, {1, 1, 1}, {1});
    sum(y).backward();
    expect_values(x.grad(), {1, 2, 2}, {0, 1, 0, 0});
    auto [y2, idx2] = max_pool2d_with_indices(tensor({1, nan, nan, 4}, {1, 2, 2}), {.kernel_size = 2});
    EXPECT_TRUE(std::isnan(y2.item()));
    expect_indices(idx2, {1, 1, 1}, {2});
    // float32 too, and only the window holding the NaN is NaN.
    const Tensor y3 = max_pool2d(tensor({nan, 1, 2, 3, 4, 5, 6, 7}, {1, 2, 4}), {.kernel_size = 2});
    EXPECT_TRUE(std::isnan(y3.flat(0)));
    EXPECT_EQ(y3.flat(1), 7.0);
  }
  // A dilated window may hold no real element (PyTorch 1.13 then writes out of bounds in the
  // backward): here it outputs -inf with index -1, and passes no gradient.
  {
    const Tensor x = tensor({1, 2, 3, 4}, {1, 2, 2}, kFloat64).requires_grad_();
    auto [y, idx] = max_pool2d_with_indices(x, {.kernel_size = 2, .stride = 1, .padding = 1, .dilation = {3, 1}});
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{-inf, -inf, -inf}));
    expect_indices(idx, {1, 1, 3}, {-1, -1, -1});
    sum(mul(y, 0.0)).backward();
    expect_values(x.grad(), {1, 2, 2}, {0, 0, 0, 0});
  }
  // A window of -inf outputs -inf and points at its first element.
  {
    const double inf = std::numeric_limits<double>::infinity();
    auto [y, idx] = max_pool2d_with_indices(tensor({-inf, -inf, -inf, -inf}, {1, 2, 2}), {.kernel_size = 2});
    EXPECT_EQ(y.item(), -inf);
    expect_indices(idx, {1, 1, 1}, {0});
  }
}

// The CNN's pooling (2x2 windows, stride 2) against a plain window-at-a-time loop with PyTorch's rule
// (the first maximum wins ties, a NaN wins, the last NaN is kept: its index, sign and payload), on
// values with many ties, NaNs and infinities, even and odd sizes, float32 and float64, with indices
// (the general loop) and without (the 2x2 kernel, or the general loop for ceil_mode's partial windows).
TEST(PoolForward, MaxPool2x2MatchesAPlainLoop) {
  const double inf = std::numeric_limits<double>::infinity();
  for (DType dtype : {kFloat32, kFloat64}) {
    for (auto [h, w] : {std::pair<std::int64_t, std::int64_t>{6, 8}, {7, 9}, {2, 2}, {5, 2}, {3, 33}}) {
      const std::int64_t planes = 6;
      std::vector<double> v(static_cast<std::size_t>(planes * h * w));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = tricky_value(i);
      const Tensor x = tensor(v, {2, 3, h, w}, dtype);
      for (bool ceil_mode : {false, true}) {
        const MaxPool2dParams params{.kernel_size = 2, .ceil_mode = ceil_mode};
        const std::int64_t oh = h / 2, ow = w / 2;
        if (ceil_mode && (h % 2 == 1 || w % 2 == 1)) continue;  // partial windows: other tests
        std::vector<double> want(static_cast<std::size_t>(planes * oh * ow));
        std::vector<std::int64_t> want_idx(want.size());
        for (std::int64_t p = 0; p < planes; ++p) {
          for (std::int64_t i = 0; i < oh; ++i) {
            for (std::int64_t j = 0; j < ow; ++j) {
              double best = -inf;
              std::int64_t at = 2 * i * w + 2 * j;
              for (std::int64_t a = 0; a < 2; ++a) {
                for (std::int64_t b = 0; b < 2; ++b) {
                  const std::int64_t k = (2 * i + a) * w + 2 * j + b;
                  const double e = v[static_cast<std::size_t>(p * h * w + k)];
                  if (e > best || std::isnan(e)) {
                    best = e;
                    at = k;
                  }
                }
              }
              want[static_cast<std::size_t>((p * oh + i) * ow + j)] = best;
              want_idx[static_cast<std::size_t>((p * oh + i) * ow + j)] = at;
            }
          }
        }
        auto [y, idx] = max_pool2d_with_indices(x, params);
        const Tensor y_no_indices = max_pool2d(x, params);  // no grad, no indices
        ASSERT_EQ(y.shape(), (Shape{2, 3, oh, ow}));
        const std::vector<double> got = y.to_vector<double>(), got2 = y_no_indices.to_vector<double>();
        EXPECT_EQ(idx.to_vector<std::int64_t>(), want_idx) << h << "x" << w << " " << dtype_name(dtype);
        for (std::size_t k = 0; k < want.size(); ++k) {
          const std::string where = std::to_string(h) + "x" + std::to_string(w) + " element " + std::to_string(k);
          expect_same_value(got[k], want[k], where + " with indices");
          expect_same_value(got2[k], want[k], where + " without");
        }
      }
    }
  }
}

// The backward finds each window's maximum again from the saved input and output; it must send the
// gradient exactly where max_pool2d_with_indices says the maximum came from: over ties, NaNs (the
// last one), infinities, windows of -inf and windows with no real element, for the 2x2 fast path
// (even and odd sizes) and the general one (overlap, padding, dilation, ceil_mode), both dtypes.
TEST(PoolBackward, GradientGoesWhereTheIndicesPoint) {
  const std::vector<MaxPool2dParams> cases = {
      {.kernel_size = 2},
      {.kernel_size = 2, .ceil_mode = true},
      {.kernel_size = 3, .stride = 2, .padding = 1},
      {.kernel_size = 3, .stride = 1, .padding = 1},
      {.kernel_size = {2, 3}, .stride = Size2d{1, 2}, .padding = {1, 0}, .dilation = {2, 1}, .ceil_mode = true},
      {.kernel_size = 2, .stride = 1, .padding = 1, .dilation = {3, 1}},  // windows with no real element
  };
  for (DType dtype : {kFloat32, kFloat64}) {
    for (auto [h, w] : {std::pair<std::int64_t, std::int64_t>{6, 8}, {7, 9}, {2, 2}, {5, 3}}) {
      for (const MaxPool2dParams& params : cases) {
        std::vector<double> v(static_cast<std::size_t>(6 * h * w));
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = tricky_value(i);
        const Tensor x = tensor(v, {2, 3, h, w}, dtype).requires_grad_();
        const Tensor y = max_pool2d(x, params);
        auto [y_again, idx] = max_pool2d_with_indices(x.detach(), params);
        const std::vector<double> values = y.to_vector<double>(), values_again = y_again.to_vector<double>();
        ASSERT_EQ(values.size(), values_again.size());
        for (std::size_t o = 0; o < values.size(); ++o) {
          expect_same_value(values[o], values_again[o], "output " + std::to_string(o));
        }
        // Small integers as the output's gradient: every sum is exact in either order.
        std::vector<double> g(static_cast<std::size_t>(y.numel()));
        for (std::size_t o = 0; o < g.size(); ++o) g[o] = static_cast<double>(o % 7) - 3.0;
        sum(mul(y, tensor(g, y.shape(), dtype))).backward();
        const std::int64_t out_plane = y.shape()[2] * y.shape()[3];
        const std::vector<std::int64_t> at = idx.to_vector<std::int64_t>();
        std::vector<double> want(v.size(), 0.0);
        for (std::size_t o = 0; o < at.size(); ++o) {
          if (at[o] >= 0)
            want[static_cast<std::size_t>(static_cast<std::int64_t>(o) / out_plane * h * w + at[o])] += g[o];
        }
        EXPECT_EQ(x.grad().to_vector<double>(), want)
            << h << "x" << w << " kernel " << to_string(params.kernel_size) << " " << dtype_name(dtype);
      }
    }
  }
  // An output changed behind autograd's back to a NaN that no input of its window holds: its
  // gradient goes nowhere (the 2x2 backward looks for the NaN among the taps and finds none).
  for (DType dtype : {kFloat32, kFloat64}) {
    const Tensor x = arange(0, 16, 1, dtype).reshape({1, 1, 4, 4}).requires_grad_();
    const Tensor y = max_pool2d(x, {.kernel_size = 2});
    y.set_flat(0, std::numeric_limits<double>::quiet_NaN());
    sum(y).backward();
    expect_values(x.grad(), {1, 1, 4, 4}, {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1});
  }
}

TEST(PoolForward, MaxPool2dBackwardAccumulates) {
  // Overlapping windows: an element that is the maximum of several windows gets each one's gradient.
  const Tensor gx = grad_of_sum(arange_image(7, 5), [](const Tensor& x) {
    return max_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true});
  });
  expect_values(gx, {1, 7, 5}, {0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0,
                                1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1});
  const Tensor b = tensor({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3}, {1, 4, 4}, kFloat64);
  const Tensor gb =
      grad_of_sum(b, [](const Tensor& x) { return max_pool2d(x, {.kernel_size = 3, .stride = 1, .padding = 1}); });
  expect_values(gb, {1, 4, 4}, {0, 0, 0, 0, 0, 9, 0, 1, 0, 0, 0, 1, 2, 0, 3, 0});
}

TEST(PoolForward, AvgPool2dValues) {
  const Tensor x = arange_image(7, 5);
  // kernel 3 stride 2 pad 1 ceil_mode, with and without the padding in the divisor, or a fixed one.
  expect_values(avg_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true}), {1, 4, 3},
                {12.0 / 9, 3, 24.0 / 9, 7, 12, 9, 123.0 / 9, 22, 141.0 / 9, 112.0 / 9, 177.0 / 9, 124.0 / 9});
  expect_values(
      avg_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}),
      {1, 4, 3}, {3, 4.5, 6, 10.5, 12, 13.5, 20.5, 22, 23.5, 28, 29.5, 31});
  expect_values(avg_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .divisor_override = 2}),
                {1, 4, 3}, {6, 13.5, 12, 31.5, 54, 40.5, 61.5, 99, 70.5, 56, 88.5, 62});
  // ceil_mode windows that run past the border divide by their clipped size even with count_include_pad.
  expect_values(avg_pool2d(x, {.kernel_size = 2, .ceil_mode = true}), {1, 4, 3},
                {3, 5, 6.5, 13, 15, 16.5, 23, 25, 26.5, 30.5, 32.5, 34});
  // A 1x1 image with kernel 2 and ceil_mode: one window of one element (as PyTorch), whatever counts.
  expect_values(avg_pool2d(full({1, 1, 1}, 3.0, kFloat64), {.kernel_size = 2, .ceil_mode = true}), {1, 1, 1}, {3});
  expect_values(avg_pool2d(full({1, 1, 1}, 3.0, kFloat64), {.kernel_size = 2, .padding = 1, .ceil_mode = true}),
                {1, 1, 1}, {0.75});
  // Non-square: kernel (2, 3), stride (3, 1), padding (1, 1).
  const AvgPool2dParams p{.kernel_size = {2, 3}, .stride = Size2d{3, 1}, .padding = {1, 1}};
  expect_values(
      avg_pool2d(x, p), {1, 3, 5},
      {1.0 / 6, 0.5, 1, 1.5, 7.0 / 6, 52.0 / 6, 13.5, 14.5, 15.5, 64.0 / 6, 112.0 / 6, 28.5, 29.5, 30.5, 124.0 / 6});
  AvgPool2dParams q = p;
  q.count_include_pad = false;
  expect_values(avg_pool2d(x, q), {1, 3, 5}, {0.5, 1, 2, 3, 3.5, 13, 13.5, 14.5, 15.5, 16, 28, 28.5, 29.5, 30.5, 31});
  q.divisor_override = -2;
  expect_values(avg_pool2d(x, q), {1, 3, 5},
                {-0.5, -1.5, -3, -4.5, -3.5, -26, -40.5, -43.5, -46.5, -32, -56, -85.5, -88.5, -91.5, -62});
}

TEST(PoolForward, AvgPool2dBackward) {
  const Tensor x = arange_image(7, 5);
  const double a = 1.0 / 9, b = 2.0 / 9, c = 4.0 / 9;
  expect_values(grad_of_sum(x,
                            [](const Tensor& t) {
                              return avg_pool2d(t, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true});
                            }),
                {1, 7, 5}, {a, b, a, b, a, b, c, b, c, b, a, b, a, b, a, b, c, b,
                            c, b, a, b, a, b, a, b, c, b, c, b, a, b, a, b, a});
  // Without the padding in the divisor, border windows hold fewer elements and weigh more.
  const Tensor g = grad_of_sum(x, [](const Tensor& t) {
    return avg_pool2d(t, {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
  });
  expect_values(g.slice(1, 0, 2), {1, 2, 5},
                {0.25, 0.25 + 1.0 / 6, 1.0 / 6, 0.25 + 1.0 / 6, 0.25, 0.25 + 1.0 / 6, 0.25 + 1.0 / 6 + 1.0 / 6 + a,
                 1.0 / 6 + a, 0.25 + 1.0 / 6 + 1.0 / 6 + a, 0.25 + 1.0 / 6});
}

TEST(PoolForward, AdaptiveAvgPool2dValues) {
  const Tensor x = arange_image(7, 5);
  expect_values(adaptive_avg_pool2d(x, {3, 2}), {1, 3, 2}, {6, 8, 16, 18, 26, 28});
  expect_values(adaptive_avg_pool2d(x, {4, 3}), {1, 4, 3}, {3, 4.5, 6, 10.5, 12, 13.5, 20.5, 22, 23.5, 28, 29.5, 31});
  expect_values(adaptive_avg_pool2d(x, 1), {1, 1, 1}, {17});
  expect_values(adaptive_avg_pool2d(x, {7, 5}), {1, 7, 5}, x.to_vector<double>());  // identity
  // Rows 0-2, 2-4, 4-6 and columns 0-2, 2-4 (3 x 3 windows) overlap on row 2, 4 and column 2.
  const double a = 1.0 / 9, b = 2.0 / 9, c = 4.0 / 9;
  expect_values(grad_of_sum(x,
                            [](const Tensor& t) {
                              return adaptive_avg_pool2d(t, {3, 2});
                            }),
                {1, 7, 5}, {a, a, b, a, a, a, a, b, a, a, b, b, c, b, b, a, a, b,
                            a, a, b, b, c, b, b, a, a, b, a, a, a, a, b, a, a});
}

TEST(PoolForward, UnbatchedEmptyAndFloat32) {
  Generator gen(3);
  const Tensor x = randn({2, 3, 7, 5}, gen, kFloat64);
  const MaxPool2dParams mp{.kernel_size = 3, .stride = 2, .padding = 1};
  const AvgPool2dParams ap{.kernel_size = 3, .stride = 2, .padding = 1, .count_include_pad = false};
  // An unbatched [C, H, W] input gives [C, H', W'], the same as the batched op on [1, C, H, W].
  for (std::int64_t n = 0; n < 2; ++n) {
    const Tensor xn = x.select(0, n);
    EXPECT_EQ(max_pool2d(xn, mp).to_vector<double>(), max_pool2d(x, mp).select(0, n).to_vector<double>());
    EXPECT_EQ(avg_pool2d(xn, ap).to_vector<double>(), avg_pool2d(x, ap).select(0, n).to_vector<double>());
    EXPECT_EQ(adaptive_avg_pool2d(xn, {3, 2}).to_vector<double>(),
              adaptive_avg_pool2d(x, {3, 2}).select(0, n).to_vector<double>());
  }
  EXPECT_EQ(max_pool2d(x.select(0, 0), mp).shape(), (Shape{3, 4, 3}));
  // float32 in, float32 out; indices are int64.
  const Tensor x32 = x.to(kFloat32);
  EXPECT_EQ(max_pool2d(x32, mp).dtype(), kFloat32);
  EXPECT_EQ(avg_pool2d(x32, ap).dtype(), kFloat32);
  EXPECT_EQ(adaptive_avg_pool2d(x32, 1).dtype(), kFloat32);
  EXPECT_EQ(max_pool2d_with_indices(x32, mp).second.dtype(), kInt64);
  // An empty batch (allowed by PyTorch) and, for adaptive pooling, empty channels or output.
  check_empty("max_pool2d empty batch", [&](const Inputs& in) { return max_pool2d(in[0], mp); }, {{0, 3, 7, 5}},
              {0, 3, 4, 3});
  check_empty("avg_pool2d empty batch", [&](const Inputs& in) { return avg_pool2d(in[0], ap); }, {{0, 3, 7, 5}},
              {0, 3, 4, 3});
  check_empty("adaptive_avg_pool2d empty channels", adaptive_fn({2, 2}), {{1, 0, 7, 5}}, {1, 0, 2, 2});
  check_empty("adaptive_avg_pool2d empty output", adaptive_fn({0, 2}), {{2, 3, 7, 5}}, {2, 3, 0, 2});
}

TEST(PoolForward, NoGradAndParallelPlanes) {
  // Large enough to split the planes across threads: the same values as each plane pooled alone
  // (one thread), forward and backward.
  Generator gen(5);
  const Tensor x = randn({4, 16, 24, 20}, gen, kFloat32);
  const MaxPool2dParams mp{.kernel_size = 2};
  const Tensor y = max_pool2d(x, mp);
  {
    NoGradGuard no_grad;
    const Tensor leaf = x.clone().requires_grad_();
    const Tensor y0 = max_pool2d(leaf, mp);
    EXPECT_FALSE(y0.requires_grad());  // no node, no indices
    EXPECT_EQ(y0.to_vector<float>(), y.to_vector<float>());
  }
  const Tensor leaf = x.clone().requires_grad_();
  const Tensor w = randn({4, 16, 12, 10}, gen, kFloat32);
  sum(mul(max_pool2d(leaf, mp), w)).backward();
  const Tensor leaf_a = x.clone().requires_grad_();
  const Tensor wa = randn({4, 16, 9, 7}, gen, kFloat32);
  const AvgPool2dParams ap{.kernel_size = 3, .stride = 3, .padding = 1, .ceil_mode = true};
  sum(mul(avg_pool2d(leaf_a, ap), wa)).backward();
  for (std::int64_t n = 0; n < 4; n += 3) {
    for (std::int64_t c = 0; c < 16; c += 5) {
      const Tensor plane = x.select(0, n).select(0, c).unsqueeze(0).clone().requires_grad_();
      const Tensor yp = max_pool2d(plane, mp);
      EXPECT_EQ(yp.to_vector<float>(), y.select(0, n).select(0, c).to_vector<float>());
      sum(mul(yp, w.select(0, n).select(0, c))).backward();
      EXPECT_EQ(plane.grad().to_vector<float>(), leaf.grad().select(0, n).select(0, c).to_vector<float>());
      const Tensor plane_a = x.select(0, n).select(0, c).unsqueeze(0).clone().requires_grad_();
      sum(mul(avg_pool2d(plane_a, ap), wa.select(0, n).select(0, c))).backward();
      EXPECT_EQ(plane_a.grad().to_vector<float>(), leaf_a.grad().select(0, n).select(0, c).to_vector<float>());
    }
  }
}

// --- errors ------------------------------------------------------------------------------------------

TEST(PoolErrors, BadParameters) {
  const Tensor x = zeros({1, 2, 6, 6});
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = 0}), ValueError, "max_pool2d", "kernel_size", "(0, 0)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = {2, -1}}), ValueError, "max_pool2d", "kernel_size", "(2, -1)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = 2, .stride = 0}), ValueError, "max_pool2d", "stride", "(0, 0)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = 2, .stride = Size2d{1, -2}}), ValueError, "max_pool2d", "stride",
                    "(1, -2)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = 2, .dilation = 0}), ValueError, "max_pool2d", "dilation", "(0, 0)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = 2, .padding = -1}), ValueError, "max_pool2d", "padding", "(-1, -1)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = 3, .padding = 2}), ValueError, "max_pool2d",
                    "pad should be at most half of kernel size", "(2, 2)", "(3, 3)");
  EXPECT_THROW_WITH(max_pool2d(x, {.kernel_size = {4, 2}, .padding = {2, 2}}), ValueError, "max_pool2d", "at most half",
                    "(4, 2)");
  EXPECT_THROW_WITH(avg_pool2d(x, {.kernel_size = 0}), ValueError, "avg_pool2d", "kernel_size");
  EXPECT_THROW_WITH(avg_pool2d(x, {.kernel_size = 2, .stride = -1}), ValueError, "avg_pool2d", "stride", "(-1, -1)");
  EXPECT_THROW_WITH(avg_pool2d(x, {.kernel_size = 2, .padding = 2}), ValueError, "avg_pool2d", "at most half",
                    "(2, 2)");
  EXPECT_THROW_WITH(avg_pool2d(x, {.kernel_size = 2, .divisor_override = 0}), ValueError, "avg_pool2d",
                    "divisor_override");
  EXPECT_THROW_WITH(adaptive_avg_pool2d(x, {2, -1}), ValueError, "adaptive_avg_pool2d", "output_size", "(2, -1)",
                    "[1, 2, 6, 6]");
}

TEST(PoolErrors, BadInputs) {
  const MaxPool2dParams mp{.kernel_size = 2};
  const AvgPool2dParams ap{.kernel_size = 2};
  // Dims: 3-D or 4-D only.
  EXPECT_THROW_WITH(max_pool2d(zeros({6, 6}), mp), ShapeError, "max_pool2d", "[N, C, H, W] or [C, H, W]", "[6, 6]");
  EXPECT_THROW_WITH(max_pool2d(zeros({1, 1, 1, 6, 6}), mp), ShapeError, "max_pool2d", "[1, 1, 1, 6, 6]");
  EXPECT_THROW_WITH(avg_pool2d(scalar_tensor(1.0), ap), ShapeError, "avg_pool2d", "[]");
  EXPECT_THROW_WITH(adaptive_avg_pool2d(zeros({4, 4}), 1), ShapeError, "adaptive_avg_pool2d", "[4, 4]");
  // Empty channels or images.
  EXPECT_THROW_WITH(max_pool2d(zeros({2, 0, 4, 4}), mp), ShapeError, "max_pool2d", "non-empty", "[2, 0, 4, 4]");
  EXPECT_THROW_WITH(avg_pool2d(zeros({2, 2, 4, 0}), ap), ShapeError, "avg_pool2d", "[2, 2, 4, 0]");
  EXPECT_THROW_WITH(max_pool2d(zeros({0, 4, 4}), mp), ShapeError, "max_pool2d", "[0, 4, 4]");
  EXPECT_THROW_WITH(adaptive_avg_pool2d(zeros({1, 1, 0, 4}), 1), ShapeError, "adaptive_avg_pool2d", "spatial",
                    "[1, 1, 0, 4]");
  // The image is smaller than the window: the message names the input shape and the kernel.
  EXPECT_THROW_WITH(max_pool2d(zeros({1, 1, 4, 4}), {.kernel_size = 5}), ShapeError, "max_pool2d", "[1, 1, 4, 4]",
                    "kernel_size (5, 5)", "0x0");
  EXPECT_THROW_WITH(max_pool2d(zeros({1, 4, 4}), {.kernel_size = 3, .dilation = {1, 2}}), ShapeError, "max_pool2d",
                    "[1, 4, 4]", "(3, 3)", "dilation (1, 2)", "1x0");
  EXPECT_THROW_WITH(avg_pool2d(zeros({2, 3, 1, 7}), ap), ShapeError, "avg_pool2d", "[2, 3, 1, 7]", "(2, 2)", "0x3");
  // Integer dtypes.
  EXPECT_THROW_WITH(max_pool2d(zeros({1, 4, 4}, kInt64), mp), DTypeError, "max_pool2d", "int64");
  EXPECT_THROW_WITH(avg_pool2d(zeros({1, 4, 4}, kInt64), ap), DTypeError, "avg_pool2d", "int64");
  EXPECT_THROW_WITH(adaptive_avg_pool2d(zeros({1, 4, 4}, kInt64), 2), DTypeError, "adaptive_avg_pool2d", "int64");
  EXPECT_THROW_WITH(max_pool2d(Tensor(), mp), ValueError, "max_pool2d", "undefined");
}
