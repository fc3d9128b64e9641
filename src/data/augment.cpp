// Image augmentation. Each image draws, in this order, its shift (dy, then dx), its flip and then its
// noise from the generator, so the result depends only on the generator's state: a DataLoader that
// seeds the generator per batch reproduces every augmented batch.
#include "descent/data/augment.h"

#include <algorithm>
#include <cmath>

#include "internal/check.h"
#include "kernels/dispatch.h"

namespace descent::data {
namespace {

void check_options(const AugmentOptions& options, const Shape& image_shape, std::string_view op) {
  DESCENT_CHECK_SHAPE(image_shape.size() == 3 && image_shape[0] > 0 && image_shape[1] > 0 && image_shape[2] > 0,
                      "{}: image_shape must be [C, H, W] with positive sizes, got {}", op, image_shape);
  DESCENT_CHECK_VALUE(options.max_shift >= 0, "{}: max_shift must be >= 0, got {}", op, options.max_shift);
  DESCENT_CHECK_VALUE(std::isfinite(options.noise_std) && options.noise_std >= 0.0,
                      "{}: noise_std must be finite and >= 0, got {}", op, options.noise_std);
  DESCENT_CHECK_SHAPE(!options.fill.defined() || options.fill.numel() == 1 || options.fill.shape() == image_shape,
                      "{}: fill must have one element or the image shape {}, got {}", op, image_shape,
                      options.fill.shape());
}

template <typename T>
void augment(const T* src, T* dst, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
             const T* fill, bool fill_per_pixel, const AugmentOptions& options, Generator& generator) {
  const std::int64_t s = options.max_shift;
  // The background value of pixel (ch, y, x) of an image.
  auto background = [&](std::int64_t ch, std::int64_t y, std::int64_t x) {
    return fill == nullptr ? T(0) : fill_per_pixel ? fill[(ch * h + y) * w + x] : fill[0];
  };
  const std::int64_t image = c * h * w;
  for (std::int64_t i = 0; i < n; ++i) {
    // The content moves by (dy, dx): out(y, x) = in(y - dy, x - dx), zero where that falls outside.
    std::int64_t dy = 0, dx = 0;
    if (s > 0) {
      dy = static_cast<std::int64_t>(generator.integer(static_cast<std::uint64_t>(2 * s + 1))) - s;
      dx = static_cast<std::int64_t>(generator.integer(static_cast<std::uint64_t>(2 * s + 1))) - s;
    }
    const bool flip = options.horizontal_flip && (generator.next_u64() >> 63) != 0;
    const T* in = src + i * image;
    T* out = dst + i * image;
    for (std::int64_t ch = 0; ch < c; ++ch) {
      for (std::int64_t y = 0; y < h; ++y) {
        T* row = out + (ch * h + y) * w;
        const std::int64_t sy = y - dy;
        if (sy < 0 || sy >= h) {
          for (std::int64_t x = 0; x < w; ++x) row[x] = background(ch, y, x);
          continue;
        }
        const T* in_row = in + (ch * h + sy) * w;
        for (std::int64_t x = 0; x < w; ++x) {
          // Flipping the shifted image: column x shows shifted column w - 1 - x.
          const std::int64_t sx = (flip ? w - 1 - x : x) - dx;
          row[x] = sx >= 0 && sx < w ? in_row[sx] : background(ch, y, x);
        }
      }
    }
    if (options.noise_std > 0.0) {
      for (std::int64_t k = 0; k < image; k += 2) {
        const auto z = generator.normal_pair();
        out[k] = static_cast<T>(out[k] + options.noise_std * z[0]);
        if (k + 1 < image) out[k + 1] = static_cast<T>(out[k + 1] + options.noise_std * z[1]);
      }
    }
  }
}

}  // namespace

Tensor augment_images(const Tensor& images, const Shape& image_shape, const AugmentOptions& options,
                      Generator& generator) {
  check_options(options, image_shape, "augment_images");
  DESCENT_CHECK_VALUE(images.defined(), "augment_images: the images tensor is undefined");
  const std::int64_t c = image_shape[0], h = image_shape[1], w = image_shape[2];
  const Shape& shape = images.shape();
  const bool as_images = shape.size() == 4 && Shape(shape.begin() + 1, shape.end()) == image_shape;
  const bool flattened = shape.size() == 2 && shape[1] == c * h * w;
  DESCENT_CHECK_SHAPE(as_images || flattened,
                      "augment_images: images have shape {}, expected [N, {}, {}, {}] or [N, {}]", shape, c, h, w,
                      c * h * w);

  const Tensor in = images.contiguous();
  Tensor out = empty(shape, images.dtype());
  kernels::dispatch_floating(images.dtype(), "augment_images", [&]<typename T>() {
    const Tensor fill = options.fill.defined() ? options.fill.to(images.dtype()).contiguous() : Tensor();
    augment(in.data_ptr<T>(), out.data_ptr<T>(), shape[0], c, h, w, fill.defined() ? fill.data_ptr<T>() : nullptr,
            fill.defined() && fill.numel() > 1, options, generator);
  });
  return out;
}

BatchTransform make_augmentation(const AugmentOptions& options, const Shape& image_shape) {
  check_options(options, image_shape, "make_augmentation");  // fail when the loader is built, not at the first batch
  return [options, image_shape](Batch batch, Generator& generator) {
    batch.inputs = augment_images(batch.inputs, image_shape, options, generator);
    return batch;
  };
}

}  // namespace descent::data
