// Image augmentation: exact pixel positions of shifts and flips (replaying the generator's draws),
// noise statistics, determinism, both image layouts, and bad shapes and options.

#include <descent/data/augment.h>
#include <descent/descent.h>
#include <gtest/gtest.h>

#include <cmath>

#include "data/data_test_util.h"

using namespace descent;
using namespace descent::data;

namespace {

// N copies of a C x H x W image whose pixel (c, y, x) holds 1 + its flat position (0 means "filled").
Tensor numbered_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return (arange(static_cast<double>(c * h * w)) + 1.0).reshape({1, c, h, w}).expand({n, c, h, w}).contiguous();
}

// The draws augment_images makes for one image, replayed from a copy of the generator.
struct Draw {
  std::int64_t dy = 0, dx = 0;
  bool flip = false;
};

Draw replay(Generator& g, const AugmentOptions& options) {
  Draw d;
  if (options.max_shift > 0) {
    const auto span = static_cast<std::uint64_t>(2 * options.max_shift + 1);
    d.dy = static_cast<std::int64_t>(g.integer(span)) - options.max_shift;
    d.dx = static_cast<std::int64_t>(g.integer(span)) - options.max_shift;
  }
  if (options.horizontal_flip) d.flip = (g.next_u64() >> 63) != 0;
  return d;
}

}  // namespace

TEST(AugmentShift, FillsWithTheBackgroundGiven) {
  // One value for every pixel, or one per pixel (the scaled blank image the CLI passes).
  const std::int64_t n = 100, c = 2, h = 3, w = 3;
  const Tensor images = numbered_images(n, c, h, w);
  const Tensor per_pixel = mul(arange(static_cast<double>(c * h * w)), -1.0).reshape({c, h, w});
  for (const Tensor& fill : {full({1}, -7.0), per_pixel}) {
    const AugmentOptions options{.max_shift = 1, .horizontal_flip = true, .fill = fill};
    Generator gen(3);
    Generator copy = gen;
    const Tensor out = augment_images(images, {c, h, w}, options, gen);
    for (std::int64_t i = 0; i < n; ++i) {
      const Draw d = replay(copy, options);
      for (std::int64_t ch = 0; ch < c; ++ch) {
        for (std::int64_t y = 0; y < h; ++y) {
          for (std::int64_t x = 0; x < w; ++x) {
            const std::int64_t sy = y - d.dy, sx = (d.flip ? w - 1 - x : x) - d.dx;
            const double background = fill.numel() == 1 ? -7.0 : -static_cast<double>((ch * h + y) * w + x);
            const double expected = sy >= 0 && sy < h && sx >= 0 && sx < w
                                        ? static_cast<double>(1 + (ch * h + sy) * w + sx)
                                        : background;
            ASSERT_EQ(out.at({i, ch, y, x}), expected) << i << " " << ch << " " << y << " " << x;
          }
        }
      }
    }
  }
  Generator gen(1);
  EXPECT_ERROR((augment_images(images, {c, h, w}, {.max_shift = 1, .fill = zeros({3, 3})}, gen)), ShapeError,
                    "fill", "[2, 3, 3]", "[3, 3]");
}

TEST(AugmentShift, MovesContentAndFillsWithZeros) {
  const std::int64_t n = 200, h = 3, w = 4;
  const Tensor images = numbered_images(n, 1, h, w);
  const AugmentOptions options{.max_shift = 1};
  Generator gen(7);
  Generator copy = gen;
  const Tensor out = augment_images(images, {1, h, w}, options, gen);
  ASSERT_EQ(out.shape(), (Shape{n, 1, h, w}));
  int seen_both = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const Draw d = replay(copy, options);
    ASSERT_LE(std::abs(d.dy), 1);
    seen_both += d.dy != 0 && d.dx != 0;
    for (std::int64_t y = 0; y < h; ++y) {
      for (std::int64_t x = 0; x < w; ++x) {
        const std::int64_t sy = y - d.dy, sx = x - d.dx;
        const double expected = sy >= 0 && sy < h && sx >= 0 && sx < w ? static_cast<double>(1 + sy * w + sx) : 0.0;
        ASSERT_EQ(out.at({i, 0, y, x}), expected)
            << "image " << i << " (dy " << d.dy << ", dx " << d.dx << ") at " << y << "," << x;
      }
    }
  }
  EXPECT_GT(seen_both, 0);
  EXPECT_EQ(gen.state(), copy.state());  // exactly these draws, no more
}

TEST(AugmentShift, ExamplePixelsOfAKnownShift) {
  // Find a seed whose first draw is (dy, dx) = (1, -1), and check the moved image by hand.
  const AugmentOptions options{.max_shift = 1};
  for (std::uint64_t seed = 0;; ++seed) {
    Generator probe(seed);
    const Draw d = replay(probe, options);
    if (d.dy != 1 || d.dx != -1) continue;
    Generator gen(seed);
    const Tensor out = augment_images(tensor({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 9}), {1, 3, 3}, options, gen);
    // [[1 2 3] [4 5 6] [7 8 9]] moved one row down and one column left.
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0, 0, 0, 2, 3, 0, 5, 6, 0}));
    break;
  }
}

TEST(AugmentFlip, MirrorsEveryChannelOrLeavesTheImage) {
  const std::int64_t n = 64, c = 2, h = 2, w = 3;
  const Tensor images = numbered_images(n, c, h, w);
  const AugmentOptions options{.horizontal_flip = true};
  Generator gen(11);
  Generator copy = gen;
  const Tensor out = augment_images(images, {c, h, w}, options, gen);
  int flipped = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const Draw d = replay(copy, options);
    flipped += d.flip;
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t y = 0; y < h; ++y) {
        for (std::int64_t x = 0; x < w; ++x) {
          const std::int64_t sx = d.flip ? w - 1 - x : x;
          ASSERT_EQ(out.at({i, ch, y, x}), images.at({i, ch, y, sx})) << "image " << i;
        }
      }
    }
  }
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
}

TEST(AugmentNoise, HasTheRequestedStandardDeviation) {
  Generator gen(5);
  const Tensor out = augment_images(zeros({4, 1, 100, 100}, kFloat64), {1, 100, 100}, {.noise_std = 0.5}, gen);
  const std::vector<double> v = out.to_vector<double>();
  double sum = 0, sq = 0;
  for (double x : v) {
    sum += x;
    sq += x * x;
  }
  const double mean = sum / static_cast<double>(v.size());
  const double std = std::sqrt(sq / static_cast<double>(v.size()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(std, 0.5, 0.01);
  EXPECT_EQ(out.dtype(), kFloat64);
}

TEST(AugmentImages, IsDeterministicForTheSameGeneratorState) {
  const Tensor images = numbered_images(8, 1, 5, 5);
  const AugmentOptions options{.max_shift = 2, .horizontal_flip = true, .noise_std = 0.1};
  Generator a(42), b(42), c(43);
  const Tensor x = augment_images(images, {1, 5, 5}, options, a);
  const Tensor y = augment_images(images, {1, 5, 5}, options, b);
  const Tensor z = augment_images(images, {1, 5, 5}, options, c);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  EXPECT_NE(x.to_vector<float>(), z.to_vector<float>());
}

TEST(AugmentImages, FlattenedAndImageLayoutsAgree) {
  const Tensor images = numbered_images(6, 1, 28, 28);
  const AugmentOptions options{.max_shift = 2, .horizontal_flip = true, .noise_std = 0.05};
  Generator a(1), b(1);
  const Tensor as_images = augment_images(images, {1, 28, 28}, options, a);
  const Tensor flat = augment_images(images.reshape({6, 784}), {1, 28, 28}, options, b);
  EXPECT_EQ(flat.shape(), (Shape{6, 784}));
  EXPECT_EQ(as_images.reshape({6, 784}).to_vector<float>(), flat.to_vector<float>());
}

TEST(AugmentImages, NoOptionsCopiesTheImages) {
  const Tensor images = numbered_images(2, 1, 2, 2);
  Generator gen(0);
  const Generator::State before = gen.state();
  const Tensor out = augment_images(images, {1, 2, 2}, {}, gen);
  EXPECT_FALSE(out.is_same(images));
  EXPECT_EQ(out.to_vector<float>(), images.to_vector<float>());
  EXPECT_EQ(gen.state(), before);  // nothing drawn
}

TEST(AugmentImages, ReportsBadShapesAndOptions) {
  Generator gen(0);
  const Tensor images = zeros({2, 783});
  EXPECT_ERROR(augment_images(images, {1, 28, 28}, {}, gen), ShapeError,
               "augment_images: images have shape [2, 783], expected [N, 1, 28, 28] or [N, 784]");
  EXPECT_ERROR(augment_images(zeros({2, 3, 28, 28}), {1, 28, 28}, {}, gen), ShapeError, "[2, 3, 28, 28]");
  EXPECT_ERROR(augment_images(zeros({784}), {1, 28, 28}, {}, gen), ShapeError, "[784]");
  EXPECT_ERROR(augment_images(zeros({2, 784}), {28, 28}, {}, gen), ShapeError, "image_shape must be [C, H, W]",
               "[28, 28]");
  EXPECT_ERROR(augment_images(zeros({2, 4}), {1, 2, 2}, {.max_shift = -1}, gen), ValueError, "max_shift must be >= 0");
  EXPECT_ERROR(augment_images(zeros({2, 4}), {1, 2, 2}, {.noise_std = -0.1}, gen), ValueError, "noise_std");
  EXPECT_ERROR(augment_images(tensor_int64({1, 2, 3, 4}, {1, 4}), {1, 2, 2}, {}, gen), DTypeError, "int64");
}

TEST(AugmentTransform, AugmentsInputsAndKeepsTargets) {
  const BatchTransform transform = make_augmentation({.max_shift = 1, .horizontal_flip = true}, {1, 3, 3});
  const Tensor images = numbered_images(4, 1, 3, 3).reshape({4, 9});
  const Tensor labels = tensor_int64({0, 1, 2, 3}, {4});
  Generator g1(9), g2(9);
  const Batch out = transform(Batch{images, labels}, g1);
  EXPECT_TRUE(out.targets.is_same(labels));
  EXPECT_EQ(out.inputs.to_vector<float>(),
            augment_images(images, {1, 3, 3}, {.max_shift = 1, .horizontal_flip = true}, g2).to_vector<float>());
  EXPECT_ERROR(make_augmentation({.max_shift = -2}, {1, 3, 3}), ValueError, "make_augmentation", "max_shift");
  EXPECT_ERROR(make_augmentation({}, {9}), ShapeError, "make_augmentation", "[C, H, W]");
}
