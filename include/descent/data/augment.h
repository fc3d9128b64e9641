#pragma once
// Image augmentation for training batches (never for validation or test data): random translations
// (a random crop of the image padded with zeros, as torchvision's RandomCrop(size, padding)), random
// horizontal flips and small Gaussian noise. Images are [N, C, H, W], or flattened [N, C*H*W] with
// the image shape given.
//
//   DataLoader loader(train, {.batch_size = 64, .shuffle = true}, make_augmentation({.max_shift = 2, .horizontal_flip = true}, {1, 28, 28}));

#include <cstdint>

#include "descent/core/generator.h"
#include "descent/core/shape.h"
#include "descent/core/tensor.h"
#include "descent/data/dataset.h"

namespace descent::data {

struct AugmentOptions {
  /// Each image is moved by up to this many pixels in each direction (uniform), filling with `fill`.
  std::int64_t max_shift = 0;
  /// Each image is mirrored left-right with probability 1/2.
  bool horizontal_flip = false;
  /// Standard deviation of Gaussian noise added to every value (0 = none).
  double noise_std = 0.0;
  /// The background shifted in: undefined for zeros, else one value or one per pixel (of the image
  /// shape). After scaling, a raw 0 is no longer 0: pass the scaler's transform of a blank image so
  /// that shifted-in pixels look like the background and not like a grey border.
  Tensor fill{};
};

/// A new tensor: the images augmented, each with its own draw from the generator.
/// ShapeError when the images do not have image_shape ([C, H, W]); ValueError for negative options.
Tensor augment_images(const Tensor& images, const Shape& image_shape, const AugmentOptions& options, Generator& generator);

/// The same as a DataLoader transform (targets untouched).
BatchTransform make_augmentation(const AugmentOptions& options, const Shape& image_shape);

}  // namespace descent::data
