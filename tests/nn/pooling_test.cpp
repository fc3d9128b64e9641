// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d (descent/nn/pooling.h): forward through the ops,
// PyTorch 1.13's printed form, output_shape, and errors that name the layer.

#include <gtest/gtest.h>

#include <vector>

#include "descent/descent.h"
#include "ops/op_check.h"

using namespace descent;
using namespace descent::nn;

namespace {

Tensor random_input(const Shape& shape, std::uint64_t seed, DType dtype = kFloat32) {
  Generator g(seed);
  return randn(shape, g, dtype);
}

// gradcheck of module(x) with respect to x.
void check_module_grad(Module& module, const Tensor& x, const std::string& what) {
  SCOPED_TRACE(what);
  x.requires_grad_();
  const GradcheckResult r =
      gradcheck([&](const std::vector<Tensor>& in) { return module(in[0]); }, {x}, {.atol = 1e-6, .rtol = 1e-5});
  EXPECT_TRUE(r.ok) << what << ": " << r.message;
}

}  // namespace

TEST(PoolingLayers, ForwardMatchesTheOps) {
  const Tensor x = random_input({2, 3, 9, 7}, 1);
  MaxPool2d max_layer({.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true});
  EXPECT_EQ(max_layer(x).to_vector<float>(), max_pool2d(x, max_layer.options()).to_vector<float>());
  EXPECT_EQ(max_layer(x).shape(), (Shape{2, 3, 5, 4}));
  AvgPool2d avg_layer({.kernel_size = 2, .count_include_pad = false});
  EXPECT_EQ(avg_layer(x).to_vector<float>(), avg_pool2d(x, avg_layer.options()).to_vector<float>());
  EXPECT_EQ(avg_layer(x).shape(), (Shape{2, 3, 4, 3}));
  AdaptiveAvgPool2d global;
  EXPECT_EQ(global(x).shape(), (Shape{2, 3, 1, 1}));
  EXPECT_NEAR(global(x).at({1, 2, 0, 0}), mean(x.select(0, 1).select(0, 2)).item(), 1e-5);
  // Unbatched input stays unbatched.
  EXPECT_EQ(max_layer(x.select(0, 0)).shape(), (Shape{3, 5, 4}));
  EXPECT_EQ(AdaptiveAvgPool2d({.output_size = {2, 3}})(x.select(0, 1)).shape(), (Shape{3, 2, 3}));
  // No parameters or buffers; the usual CNN step [64, 32, 28, 28] -> [64, 32, 14, 14].
  EXPECT_TRUE(max_layer.parameters().empty());
  EXPECT_TRUE(max_layer.state_dict().empty());
  EXPECT_EQ(MaxPool2d({.kernel_size = 2})(zeros({64, 32, 28, 28})).shape(), (Shape{64, 32, 14, 14}));
}

TEST(PoolingLayers, Gradients) {
  AvgPool2d avg({.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
  check_module_grad(avg, random_input({2, 2, 7, 5}, 2, kFloat64), "AvgPool2d");
  check_module_grad(avg, random_input({2, 2, 5, 7}, 3, kFloat64).transpose(-2, -1), "AvgPool2d transposed");
  AdaptiveAvgPool2d adaptive({.output_size = {3, 2}});
  check_module_grad(adaptive, random_input({2, 7, 5}, 4, kFloat64), "AdaptiveAvgPool2d");
  // Max pooling over well separated values (a scrambled 0, 1, 2, ...): no ties for the finite differences.
  MaxPool2d max_layer({.kernel_size = 2, .stride = 1, .padding = 1});
  std::vector<double> v(2 * 3 * 5 * 4);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((37 * i) % 121);
  check_module_grad(max_layer, tensor(v, {2, 3, 5, 4}, kFloat64), "MaxPool2d");
}

TEST(PoolingLayers, ExtraReprAsPyTorch) {
  EXPECT_EQ(MaxPool2d({.kernel_size = 2}).name(),
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  EXPECT_EQ(MaxPool2d({.kernel_size = {2, 3}}).name(),
            "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)");
  EXPECT_EQ(
      MaxPool2d({.kernel_size = 3, .stride = Size2d{1, 2}, .padding = 1, .dilation = 2, .ceil_mode = true}).name(),
      "MaxPool2d(kernel_size=3, stride=(1, 2), padding=1, dilation=2, ceil_mode=True)");
  EXPECT_EQ(AvgPool2d({.kernel_size = 2}).name(), "AvgPool2d(kernel_size=2, stride=2, padding=0)");
  EXPECT_EQ(AvgPool2d({.kernel_size = {2, 3}}).name(), "AvgPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0)");
  // PyTorch 1.13 prints neither ceil_mode, count_include_pad nor divisor_override.
  EXPECT_EQ(AvgPool2d({.kernel_size = 3,
                       .stride = 2,
                       .padding = 1,
                       .ceil_mode = true,
                       .count_include_pad = false,
                       .divisor_override = 2})
                .name(),
            "AvgPool2d(kernel_size=3, stride=2, padding=1)");
  EXPECT_EQ(AdaptiveAvgPool2d().name(), "AdaptiveAvgPool2d(output_size=1)");
  EXPECT_EQ(AdaptiveAvgPool2d({.output_size = {2, 3}}).name(), "AdaptiveAvgPool2d(output_size=(2, 3))");
  EXPECT_EQ(AdaptiveAvgPool2d({.output_size = 7}).name(), "AdaptiveAvgPool2d(output_size=7)");
}

TEST(PoolingLayers, OutputShape) {
  EXPECT_EQ(MaxPool2d({.kernel_size = 2}).output_shape({64, 32, 28, 28}), (Shape{64, 32, 14, 14}));
  EXPECT_EQ(MaxPool2d({.kernel_size = 2}).output_shape({32, 7, 5}), (Shape{32, 3, 2}));
  EXPECT_EQ(MaxPool2d({.kernel_size = 2, .ceil_mode = true}).output_shape({32, 7, 5}), (Shape{32, 4, 3}));
  EXPECT_EQ(MaxPool2d({.kernel_size = 3, .stride = 1, .padding = 1, .dilation = 2}).output_shape({1, 1, 7, 5}),
            (Shape{1, 1, 5, 3}));
  EXPECT_EQ(AvgPool2d({.kernel_size = 3, .stride = 2, .padding = 1}).output_shape({8, 3, 7, 5}), (Shape{8, 3, 4, 3}));
  EXPECT_EQ(AvgPool2d({.kernel_size = 2}).output_shape({0, 3, 4, 4}), (Shape{0, 3, 2, 2}));
  EXPECT_EQ(AdaptiveAvgPool2d({.output_size = {3, 2}}).output_shape({8, 16, 9, 9}), (Shape{8, 16, 3, 2}));
  EXPECT_EQ(AdaptiveAvgPool2d().output_shape({16, 1, 1}), (Shape{16, 1, 1}));
  // output_shape agrees with forward.
  const Tensor x = random_input({2, 3, 11, 6}, 6);
  MaxPool2d m({.kernel_size = {3, 2}, .stride = Size2d{2, 1}, .padding = {1, 0}, .ceil_mode = true});
  EXPECT_EQ(m.output_shape(x.shape()), m(x).shape());
}

TEST(PoolingLayers, ErrorsNameTheLayer) {
  // Bad options when the layer is built.
  EXPECT_THROW_WITH(MaxPool2d({.kernel_size = 0}), ValueError, "MaxPool2d", "kernel_size", "(0, 0)");
  EXPECT_THROW_WITH(MaxPool2d({.kernel_size = 2, .stride = 0}), ValueError, "MaxPool2d", "stride");
  EXPECT_THROW_WITH(MaxPool2d({.kernel_size = 2, .dilation = -1}), ValueError, "MaxPool2d", "dilation");
  EXPECT_THROW_WITH(MaxPool2d({.kernel_size = 2, .padding = 2}), ValueError, "MaxPool2d", "at most half", "(2, 2)");
  EXPECT_THROW_WITH(AvgPool2d({.kernel_size = {3, 1}, .padding = {1, 1}}), ValueError, "AvgPool2d", "at most half",
                    "(3, 1)");
  EXPECT_THROW_WITH(AvgPool2d({.kernel_size = 2, .divisor_override = 0}), ValueError, "AvgPool2d", "divisor_override");
  EXPECT_THROW_WITH(AdaptiveAvgPool2d({.output_size = {-1, 2}}), ValueError, "AdaptiveAvgPool2d", "(-1, 2)");

  // Bad inputs: the message names the layer as it prints, and the input shape.
  MaxPool2d pool({.kernel_size = 5});
  EXPECT_THROW_WITH(pool(zeros({1, 1, 4, 4})), ShapeError, "MaxPool2d(kernel_size=5, stride=5", "[1, 1, 4, 4]",
                    "(5, 5)");
  EXPECT_THROW_WITH(pool.output_shape({3, 4, 9}), ShapeError, "MaxPool2d(kernel_size=5", "[3, 4, 9]");
  EXPECT_THROW_WITH(pool.output_shape({9, 9}), ShapeError, "MaxPool2d(kernel_size=5", "[9, 9]");
  EXPECT_THROW_WITH(pool(zeros({2, 0, 9, 9})), ShapeError, "MaxPool2d(kernel_size=5", "[2, 0, 9, 9]");
  EXPECT_THROW_WITH(pool(zeros({1, 9, 9}, kInt64)), DTypeError, "MaxPool2d(kernel_size=5", "int64");
  EXPECT_THROW_WITH(pool(Tensor()), ValueError, "MaxPool2d(kernel_size=5", "undefined");
  AvgPool2d avg({.kernel_size = 2});
  EXPECT_THROW_WITH(avg(zeros({1, 1, 1, 8})), ShapeError, "AvgPool2d(kernel_size=2, stride=2, padding=0)",
                    "[1, 1, 1, 8]");
  EXPECT_THROW_WITH(avg.output_shape({1, 2, 3, 4, 5}), ShapeError, "AvgPool2d(kernel_size=2", "[1, 2, 3, 4, 5]");
  AdaptiveAvgPool2d adaptive({.output_size = 2});
  EXPECT_THROW_WITH(adaptive(zeros({4, 4})), ShapeError, "AdaptiveAvgPool2d(output_size=2)", "[4, 4]");
  EXPECT_THROW_WITH(adaptive.output_shape({1, 3, 0, 4}), ShapeError, "AdaptiveAvgPool2d(output_size=2)",
                    "[1, 3, 0, 4]");
  EXPECT_THROW_WITH(adaptive(zeros({3, 4, 4}, kInt64)), DTypeError, "AdaptiveAvgPool2d(output_size=2)", "int64");
}
