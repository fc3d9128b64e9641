#pragma once
// Datasets and the DataLoader: examples stored as two tensors whose first dimension counts them,
// served in batches. The batch size chooses the flavour of gradient descent: 1 is stochastic, N is
// mini-batch, 0 (or any size >= the number of examples) is full-batch.
//
//   TensorDataset train(images, labels);
//   DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 42});
//   for (std::int64_t epoch = 0; epoch < 10; ++epoch) {
//     loader.set_epoch(epoch);                // a new order every epoch, the same for the same seed
//     for (const Batch& batch : loader) { ... batch.inputs ... batch.targets ... }
//   }
//
// The order of epoch e is a function of (seed, e) alone, and so is the randomness handed to the
// transform of each batch: a run resumed at an epoch boundary sees exactly the batches of an
// uninterrupted one.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "descent/core/generator.h"
#include "descent/core/tensor.h"

namespace descent::data {

struct Batch {
  Tensor inputs;
  Tensor targets;
};

/// Examples as rows of two tensors (inputs [N, ...], targets [N, ...]); the targets may be undefined
/// (data to predict on). Tensors are shared, not copied.
class TensorDataset {
 public:
  TensorDataset() = default;
  /// Throws ShapeError when the first dimensions differ or inputs is 0-d.
  TensorDataset(Tensor inputs, Tensor targets = {});

  std::int64_t size() const;
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }
  /// The examples at these indices, in this order, as new contiguous tensors. IndexError when out of range.
  Batch get(const std::vector<std::int64_t>& indices) const;
  /// A dataset of the examples at these indices (copied).
  TensorDataset subset(const std::vector<std::int64_t>& indices) const;

 private:
  Tensor inputs_;
  Tensor targets_;
};

/// Splits off a random fraction (0 < fraction < 1) of the examples, drawn with the seed: returns
/// {the rest, the fraction}. ValueError when either part would be empty.
std::pair<TensorDataset, TensorDataset> random_split(const TensorDataset& dataset, double fraction, std::uint64_t seed);

/// A function applied to each batch before it is served (augmentation); it draws any randomness it
/// needs from the generator it is given.
using BatchTransform = std::function<Batch(Batch batch, Generator& generator)>;

struct DataLoaderOptions {
  /// Examples per batch; 0 = the whole dataset in one batch (batch gradient descent).
  std::int64_t batch_size = 32;
  bool shuffle = false;
  /// Drop the last batch when it is smaller than batch_size.
  bool drop_last = false;
  std::uint64_t seed = 0;
};

class DataLoader {
 public:
  /// ValueError for a negative batch size or an empty dataset.
  DataLoader(TensorDataset dataset, const DataLoaderOptions& options, BatchTransform transform = nullptr);

  const TensorDataset& dataset() const { return dataset_; }
  const DataLoaderOptions& options() const { return options_; }
  /// The effective batch size (the dataset's size for 0).
  std::int64_t batch_size() const;
  std::size_t num_batches() const;
  /// Sets the epoch, which with the seed determines the order and the transform's randomness.
  void set_epoch(std::int64_t epoch);
  std::int64_t epoch() const { return epoch_; }
  /// Batch i (0 <= i < num_batches()) of the current epoch.
  Batch batch(std::size_t i) const;

  class Iterator {
   public:
    Iterator(const DataLoader* loader, std::size_t i) : loader_(loader), i_(i) {}
    Batch operator*() const { return loader_->batch(i_); }
    Iterator& operator++() { ++i_; return *this; }
    bool operator==(const Iterator& other) const { return i_ == other.i_; }
   private:
    const DataLoader* loader_;
    std::size_t i_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, num_batches()}; }

 private:
  TensorDataset dataset_;
  DataLoaderOptions options_;
  BatchTransform transform_;
  std::int64_t epoch_ = 0;
  std::vector<std::int64_t> order_;
};

}  // namespace descent::data
