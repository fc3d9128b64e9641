// Gradient checks, exact values and bad inputs for conv2d (descent/ops/conv.h).

#include <gtest/gtest.h>

#include "ops/op_check.h"

using namespace descent;
using namespace optest;

namespace {

const char* kNoScalar = "conv2d takes 3-D or 4-D images and a 4-D weight";

OpFn conv_fn(Conv2dParams p, bool with_bias = true) {
  return [p, with_bias](const Inputs& in) { return conv2d(in[0], in[1], with_bias ? in[2] : Tensor(), p); };
}

}  // namespace

TEST(ConvGrad, StridesPaddingsDilations) {
  // Input, weight, bias gradients against finite differences, odd and non-square sizes,
  // transposed (non-contiguous) inputs and weights.
  const std::vector<std::vector<Arg>> shapes_3x3 = {
      {C(2, 3, 5, 6), C(4, 3, 3, 3), C(4)}, {C(1, 1, 3, 3), C(1, 1, 3, 3), C(1)},
      {Tr(2, 3, 6, 5), C(4, 3, 3, 3), C(4)}, {C(2, 3, 7, 5), Tr(4, 3, 3, 3), St(4)}};
  check_op({.name = "conv2d 3x3", .fn = conv_fn({}), .shapes = shapes_3x3, .no_scalar = kNoScalar});
  check_op({.name = "conv2d 3x3 pad 1", .fn = conv_fn({.padding = 1}), .shapes = shapes_3x3, .no_scalar = kNoScalar});
  check_op({.name = "conv2d stride 2 pad 1",
            .fn = conv_fn({.stride = 2, .padding = 1}),
            .shapes = shapes_3x3,
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d stride (2, 1) pad (2, 1) dilation (1, 2)",
            .fn = conv_fn({.stride = {2, 1}, .padding = {2, 1}, .dilation = {1, 2}}),
            .shapes = {{C(2, 3, 7, 9), C(2, 3, 3, 2), C(2)}, {Rev(2, 3, 6, 8), C(2, 3, 2, 3), C(2)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d dilation 2 stride 3",
            .fn = conv_fn({.stride = 3, .dilation = 2}),
            .shapes = {{C(1, 2, 9, 11), C(3, 2, 3, 3), C(3)}, {Pad(2, 2, 8, 8), C(3, 2, 2, 2), C(3)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d 1x1",
            .fn = conv_fn({}),
            .shapes = {{C(3, 4, 2, 3), C(5, 4, 1, 1), C(5)}, {Tr(2, 4, 3, 3), C(2, 4, 1, 1), C(2)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d padding larger than the kernel",
            .fn = conv_fn({.padding = 3}),
            .shapes = {{C(1, 2, 2, 3), C(2, 2, 2, 2), C(2)}, {Tr(1, 2, 3, 2), C(2, 2, 2, 2), C(2)}},
            .no_scalar = kNoScalar});
}

TEST(ConvGrad, GroupsDepthwiseNoBiasUnbatched) {
  check_op({.name = "conv2d groups 2",
            .fn = conv_fn({.padding = 1, .groups = 2}),
            .shapes = {{C(2, 4, 5, 5), C(6, 2, 3, 3), C(6)}, {Tr(2, 4, 4, 5), C(6, 2, 3, 3), C(6)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d depthwise",
            .fn = conv_fn({.stride = 2, .padding = 1, .groups = 3}),
            .shapes = {{C(2, 3, 6, 7), C(6, 1, 3, 3), C(6)}, {Rev(1, 3, 5, 5), C(3, 1, 2, 2), C(3)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d without bias",
            .fn = conv_fn({.padding = 1}, false),
            .shapes = {{C(2, 2, 4, 3), C(3, 2, 3, 3)}, {Tr(1, 2, 4, 3), C(3, 2, 3, 3)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d unbatched [C, H, W]",
            .fn = conv_fn({.padding = {1, 0}}),
            .shapes = {{C(2, 5, 4), C(3, 2, 3, 3), C(3)}, {Tr(2, 4, 5), C(3, 2, 3, 3), C(3)}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d only the weight needs grad",
            .fn = conv_fn({.padding = 1}),
            .shapes = {{C(2, 2, 4, 4).nograd(), C(3, 2, 3, 3), C(3).nograd()},
                       {Tr(2, 2, 4, 4).nograd(), C(3, 2, 3, 3), C(3).nograd()}},
            .no_scalar = kNoScalar});
  check_op({.name = "conv2d only the input needs grad",
            .fn = conv_fn({.stride = 2}),
            .shapes = {{C(2, 2, 5, 5), C(3, 2, 3, 3).nograd(), C(3).nograd()},
                       {Tr(2, 2, 5, 5), C(3, 2, 3, 3).nograd(), C(3).nograd()}},
            .no_scalar = kNoScalar});
}

TEST(ConvForward, HandComputed) {
  // 1 x 1 x 3 x 3 input 1..9, 2x2 kernel of ones, bias 0.5: each output is a 2x2 window sum + 0.5.
  const Tensor x = arange(1, 10, 1, kFloat64).reshape({1, 1, 3, 3});
  const Tensor w = ones({1, 1, 2, 2}, kFloat64);
  const Tensor b = full({1}, 0.5, kFloat64);
  EXPECT_EQ(conv2d(x, w, b).to_vector<double>(), (std::vector<double>{12.5, 16.5, 24.5, 28.5}));
  // Padding 1, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1) see 1, 2+3, 4+7, 5+6+8+9.
  EXPECT_EQ(conv2d(x, w, Tensor(), {.stride = 2, .padding = 1}).to_vector<double>(),
            (std::vector<double>{1, 5, 11, 28}));
  // Dilation 2: the 2x2 kernel touches the corners only: 1 + 3 + 7 + 9.
  EXPECT_EQ(conv2d(x, w, Tensor(), {.dilation = 2}).to_vector<double>(), (std::vector<double>{20}));
  // Groups 2: each output channel sees its own input channel.
  const Tensor x2 = cat({x, mul(x, 10.0)}, 1);
  const Tensor y2 = conv2d(x2, ones({2, 1, 3, 3}, kFloat64), Tensor(), {.groups = 2});
  EXPECT_EQ(y2.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(y2.to_vector<double>(), (std::vector<double>{45, 450}));
  // An empty batch gives an empty output of the right shape.
  EXPECT_EQ(conv2d(zeros({0, 1, 3, 3}), ones({4, 1, 2, 2})).shape(), (Shape{0, 4, 2, 2}));
}

TEST(ConvForward, MatchesADirectLoop) {
  // A larger case (above the parallel threshold) against the definition, summed in double.
  Generator g(7);
  const Conv2dParams p{.stride = {1, 2}, .padding = {1, 2}, .dilation = {2, 1}, .groups = 2};
  const Tensor x = randn({3, 4, 17, 19}, g), w = randn({6, 2, 3, 4}, g), b = randn({6}, g);
  const Tensor y = conv2d(x, w, b, p);
  const std::int64_t oh = window_output_size(17, 3, 1, 1, 2), ow = window_output_size(19, 4, 2, 2, 1);
  ASSERT_EQ(y.shape(), (Shape{3, 6, oh, ow}));
  for (std::int64_t n = 0; n < 3; ++n) {
    for (std::int64_t o = 0; o < 6; ++o) {
      const std::int64_t group = o / 3;
      for (std::int64_t i = 0; i < oh; ++i) {
        for (std::int64_t j = 0; j < ow; ++j) {
          double want = b.at({o});
          for (std::int64_t c = 0; c < 2; ++c) {
            for (std::int64_t kh = 0; kh < 3; ++kh) {
              for (std::int64_t kw = 0; kw < 4; ++kw) {
                const std::int64_t ih = i - 1 + 2 * kh, iw = 2 * j - 2 + kw;
                if (ih < 0 || ih >= 17 || iw < 0 || iw >= 19) continue;
                want += x.at({n, group * 2 + c, ih, iw}) * w.at({o, c, kh, kw});
              }
            }
          }
          ASSERT_NEAR(y.at({n, o, i, j}), want, 1e-4) << n << " " << o << " " << i << " " << j;
        }
      }
    }
  }
}

TEST(ConvErrors, NameTheShapes) {
  const Tensor x = zeros({2, 3, 8, 8}), w = zeros({4, 3, 3, 3});
  EXPECT_THROW_WITH(conv2d(zeros({3, 8}), w), ShapeError, "conv2d", "[N, C, H, W]", "[3, 8]");
  EXPECT_THROW_WITH(conv2d(x, zeros({4, 3, 3})), ShapeError, "conv2d", "weight", "[4, 3, 3]");
  EXPECT_THROW_WITH(conv2d(zeros({2, 2, 8, 8}), w), ShapeError, "conv2d", "[2, 2, 8, 8]", "2 channels", "[4, 3, 3, 3]",
                    "expects 3");
  EXPECT_THROW_WITH(conv2d(x, w, zeros({3})), ShapeError, "conv2d", "bias", "[4]", "[3]");
  EXPECT_THROW_WITH(conv2d(zeros({2, 3, 2, 8}), w), ShapeError, "conv2d", "3x3", "[2, 3, 2, 8]");
  EXPECT_THROW_WITH((conv2d(zeros({1, 4, 5, 5}), zeros({3, 2, 3, 3}), Tensor(), {.groups = 2})), ShapeError,
                    "conv2d", "not divisible by groups=2");
  EXPECT_THROW_WITH((conv2d(x, w, Tensor(), {.stride = 0})), ValueError, "conv2d", "stride", "(0, 0)");
  EXPECT_THROW_WITH((conv2d(x, w, Tensor(), {.padding = {-1, 0}})), ValueError, "conv2d", "padding");
  EXPECT_THROW_WITH((conv2d(x, w, Tensor(), {.dilation = 0})), ValueError, "conv2d", "dilation");
  EXPECT_THROW_WITH((conv2d(x, w, Tensor(), {.groups = 0})), ValueError, "conv2d", "groups");
  EXPECT_THROW_WITH(conv2d(x, zeros({4, 3, 3, 3}, kFloat64)), DTypeError, "conv2d");
  EXPECT_THROW_WITH(conv2d(zeros({2, 3, 8, 8}, kInt64), zeros({4, 3, 3, 3}, kInt64)), DTypeError, "conv2d");
}

TEST(WindowOutputSize, PyTorchFormula) {
  EXPECT_EQ(window_output_size(28, 3, 1, 1, 1), 28);
  EXPECT_EQ(window_output_size(28, 2, 2, 0, 1), 14);
  EXPECT_EQ(window_output_size(7, 2, 2, 0, 1), 3);
  EXPECT_EQ(window_output_size(7, 2, 2, 0, 1, true), 4);
  EXPECT_EQ(window_output_size(6, 2, 2, 1, 1, true), 4);
  EXPECT_EQ(window_output_size(5, 2, 2, 1, 1, true), 3);  // a 4th window would start in the right padding
  EXPECT_EQ(window_output_size(5, 3, 2, 0, 2), 1);
  EXPECT_EQ(window_output_size(2, 3, 1, 0, 1), 0);
  // With ceil_mode a window longer than the input still counts when rounding up reaches it (PyTorch).
  EXPECT_EQ(window_output_size(1, 2, 2, 0, 1, true), 1);
  EXPECT_EQ(window_output_size(1, 3, 2, 0, 1, true), 0);
  EXPECT_EQ(window_output_size(1, 3, 3, 0, 1, true), 1);
  EXPECT_EQ(window_output_size(2, 3, 3, 0, 1, true), 1);
  EXPECT_EQ(window_output_size(1, 2, 1, 0, 1, true), 0);
  EXPECT_EQ(to_string(Size2d(2, 3)), "(2, 3)");
}

namespace {

struct ConvResult {
  Tensor y, gx, gw, gb;
};

// conv2d forward and backward in float32 with oneDNN on or off; the output gradient is fixed.
ConvResult run_conv(bool onednn, const Tensor& x0, const Tensor& w0, const Tensor& b0, const Tensor& gy,
                    const Conv2dParams& p) {
  const bool before = backends::onednn::enabled();
  backends::onednn::set_enabled(onednn);
  const Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
  const Tensor b = b0.defined() ? b0.detach().requires_grad_(true) : Tensor();
  const Tensor y = conv2d(x, w, b, p);
  y.backward(gy);
  backends::onednn::set_enabled(before);
  return {y.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : Tensor()};
}

// max |a - b| / (1 + max |b|): float32 sums in a different order differ in the last bits.
double scaled_difference(const Tensor& a, const Tensor& b) {
  return max(abs(a - b)).item() / (1.0 + max(abs(b)).item());
}

}  // namespace

TEST(ConvOneDnn, MatchesIm2colForwardAndEveryGradient) {
  // The oneDNN path (float32, blocked layouts from 8 input channels per group, plain below) against
  // im2col + GEMM, the path float64 and builds without oneDNN take, over the Fashion-MNIST CNN's
  // layers and strides, paddings, dilations, groups, odd sizes and no bias.
  if (!backends::onednn::is_available()) GTEST_SKIP() << "descent was built without oneDNN";
  struct Case {
    Shape x, w;
    Conv2dParams p;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{4, 1, 28, 28}, {32, 1, 3, 3}, {.padding = 1}, true},                      // first layer, plain layouts
      {{4, 32, 14, 14}, {64, 32, 3, 3}, {.padding = 1}, true},                    // second layer, blocked
      {{3, 16, 13, 11}, {24, 16, 3, 3}, {.stride = 2, .padding = 1}, true},       // odd sizes, stride 2
      {{2, 16, 9, 10}, {8, 16, 3, 2}, {.stride = {2, 1}, .padding = {2, 1}, .dilation = {1, 2}}, false},
      {{2, 32, 8, 8}, {32, 8, 3, 3}, {.padding = 1, .groups = 4}, true},          // groups of 8 channels
      {{2, 12, 7, 7}, {12, 1, 3, 3}, {.padding = 1, .groups = 12}, true},         // depthwise
      {{5, 64, 7, 7}, {10, 64, 1, 1}, {}, true},                                  // 1x1, 10 outputs (padded blocks)
      {{1, 3, 5, 5}, {2, 3, 5, 5}, {.padding = 2, .dilation = 1}, false},
  };
  Generator g(11);
  for (const Case& c : cases) {
    const Tensor x = randn(c.x, g), w = randn(c.w, g) * 0.2, b = c.bias ? randn({c.w[0]}, g) : Tensor();
    const Tensor y_shape = conv2d(x, w, b, c.p);  // the output shape, for the output gradient
    const Tensor gy = randn(y_shape.shape(), g);
    const ConvResult fast = run_conv(true, x, w, b, gy, c.p), plain = run_conv(false, x, w, b, gy, c.p);
    const std::string what = "x " + ::testing::PrintToString(c.x) + " w " + ::testing::PrintToString(c.w);
    ASSERT_EQ(fast.y.shape(), plain.y.shape()) << what;
    EXPECT_LT(scaled_difference(fast.y, plain.y), 1e-5) << what;
    EXPECT_LT(scaled_difference(fast.gx, plain.gx), 1e-5) << what;
    EXPECT_LT(scaled_difference(fast.gw, plain.gw), 1e-5) << what;
    if (c.bias) EXPECT_LT(scaled_difference(fast.gb, plain.gb), 1e-5) << what;
    // The same call again reuses the cached primitives and gives the same numbers.
    const ConvResult again = run_conv(true, x, w, b, gy, c.p);
    EXPECT_EQ(max(abs(again.y - fast.y)).item(), 0.0) << what;
    EXPECT_EQ(max(abs(again.gw - fast.gw)).item(), 0.0) << what;
  }
}

TEST(ConvOneDnn, WithoutGradientsAndOnlySomeGradients) {
  if (!backends::onednn::is_available()) GTEST_SKIP() << "descent was built without oneDNN";
  Generator g(12);
  const Tensor x = randn({2, 16, 6, 6}, g), w = randn({8, 16, 3, 3}, g), b = randn({8}, g);
  backends::onednn::set_enabled(false);
  const Tensor want = conv2d(x, w, b, {.padding = 1});
  backends::onednn::set_enabled(true);
  {
    NoGradGuard no_grad;  // an inference plan
    EXPECT_LT(scaled_difference(conv2d(x, w, b, {.padding = 1}), want), 1e-5);
  }
  // Only the weight requires grad: no input gradient is computed, the weight's is right.
  const Tensor wl = w.detach().requires_grad_(true);
  sum(conv2d(x, wl, b, {.padding = 1})).backward();
  backends::onednn::set_enabled(false);
  const Tensor wp = w.detach().requires_grad_(true);
  sum(conv2d(x, wp, b, {.padding = 1})).backward();
  backends::onednn::set_enabled(true);
  EXPECT_LT(scaled_difference(wl.grad(), wp.grad()), 1e-5);
}

TEST(ConvOneDnn, TurningItOnWithoutOneDnnIsAnError) {
  if (backends::onednn::is_available()) {
    EXPECT_TRUE(backends::onednn::enabled());  // on by default
    backends::onednn::set_enabled(false);
    EXPECT_FALSE(backends::onednn::enabled());
    backends::onednn::set_enabled(true);
    EXPECT_TRUE(backends::onednn::enabled());
  } else {
    EXPECT_FALSE(backends::onednn::enabled());
    EXPECT_THROW(backends::onednn::set_enabled(true), ValueError);
    EXPECT_NO_THROW(backends::onednn::set_enabled(false));
  }
}
