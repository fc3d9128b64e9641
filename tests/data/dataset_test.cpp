// TensorDataset, random_split and DataLoader: batch sizes (stochastic, mini-batch, full batch),
// drop_last, shuffling that is a function of (seed, epoch), and the transform's randomness.

#include "descent/data/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "descent/core/error.h"
#include "descent/ops/elementwise.h"

namespace descent::data {
namespace {

// Example i has inputs [i, 100 + i] and target i.
TensorDataset numbered(std::int64_t n) {
  std::vector<double> x;
  std::vector<std::int64_t> y;
  for (std::int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<double>(i));
    x.push_back(static_cast<double>(100 + i));
    y.push_back(i);
  }
  return TensorDataset(tensor(x, {n, 2}), tensor_int64(y, {n}));
}

std::vector<std::int64_t> epoch_order(const DataLoader& loader) {
  std::vector<std::int64_t> order;
  for (const Batch& b : loader) {
    for (std::int64_t v : b.targets.to_vector<std::int64_t>()) order.push_back(v);
  }
  return order;
}

TEST(Dataset, GetGathersRowsInOrder) {
  TensorDataset ds = numbered(5);
  EXPECT_EQ(ds.size(), 5);
  Batch b = ds.get({3, 0, 1, 4});
  EXPECT_EQ(b.inputs.shape(), (Shape{4, 2}));
  EXPECT_EQ(b.inputs.to_vector<double>(), (std::vector<double>{3, 103, 0, 100, 1, 101, 4, 104}));
  EXPECT_EQ(b.targets.to_vector<std::int64_t>(), (std::vector<std::int64_t>{3, 0, 1, 4}));
  EXPECT_THROW(ds.get({5}), IndexError);
  EXPECT_THROW(ds.get({0, 1, 7}), IndexError);
  EXPECT_THROW(ds.get({-1}), IndexError);
}

TEST(Dataset, NonContiguousInputsAndNoTargets) {
  Tensor x = tensor({0, 1, 2, 3, 4, 5}, {2, 3}).t();  // [3, 2], transposed view
  TensorDataset ds(x);
  EXPECT_FALSE(ds.targets().defined());
  Batch b = ds.get({2, 0});
  EXPECT_EQ(b.inputs.to_vector<double>(), (std::vector<double>{2, 5, 0, 3}));
  EXPECT_FALSE(b.targets.defined());
}

TEST(Dataset, BadShapes) {
  EXPECT_THROW(TensorDataset(scalar_tensor(1.0)), ShapeError);
  try {
    TensorDataset(zeros({3, 2}), zeros({4}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[3, 2]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4]"), std::string::npos) << e.what();
  }
}

TEST(Dataset, RandomSplitPartitions) {
  TensorDataset ds = numbered(10);
  auto [rest, part] = random_split(ds, 0.3, 7);
  EXPECT_EQ(rest.size(), 7);
  EXPECT_EQ(part.size(), 3);
  std::vector<std::int64_t> all = rest.targets().to_vector<std::int64_t>();
  for (std::int64_t v : part.targets().to_vector<std::int64_t>()) all.push_back(v);
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
  auto [rest2, part2] = random_split(ds, 0.3, 7);
  EXPECT_EQ(part.targets().to_vector<std::int64_t>(), part2.targets().to_vector<std::int64_t>());
  EXPECT_THROW(random_split(ds, 0.01, 7), ValueError);
  EXPECT_THROW(random_split(ds, 1.0, 7), ValueError);
}

TEST(DataLoader, StochasticBatchesOfOne) {
  DataLoader loader(numbered(5), {.batch_size = 1});
  EXPECT_EQ(loader.num_batches(), 5u);
  std::int64_t i = 0;
  for (const Batch& b : loader) {
    EXPECT_EQ(b.inputs.shape(), (Shape{1, 2}));
    EXPECT_EQ(b.targets.to_vector<std::int64_t>(), (std::vector<std::int64_t>{i}));
    ++i;
  }
  EXPECT_EQ(i, 5);
}

TEST(DataLoader, MiniBatchesWithAndWithoutDropLast) {
  DataLoader loader(numbered(10), {.batch_size = 4});
  EXPECT_EQ(loader.num_batches(), 3u);
  EXPECT_EQ(loader.batch(0).inputs.shape(), (Shape{4, 2}));
  EXPECT_EQ(loader.batch(2).inputs.shape(), (Shape{2, 2}));
  EXPECT_EQ(loader.batch(2).targets.to_vector<std::int64_t>(), (std::vector<std::int64_t>{8, 9}));
  EXPECT_THROW(loader.batch(3), IndexError);

  DataLoader dropping(numbered(10), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(dropping.num_batches(), 2u);
  EXPECT_EQ(epoch_order(dropping).size(), 8u);
  DataLoader exact(numbered(8), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(exact.num_batches(), 2u);
}

TEST(DataLoader, FullBatch) {
  for (std::int64_t size : {0, 10, 25}) {
    DataLoader loader(numbered(10), {.batch_size = size, .drop_last = true});
    EXPECT_EQ(loader.batch_size(), 10);
    ASSERT_EQ(loader.num_batches(), 1u);
    EXPECT_EQ(loader.batch(0).inputs.shape(), (Shape{10, 2}));
  }
}

TEST(DataLoader, ShuffleIsAFunctionOfSeedAndEpoch) {
  DataLoader a(numbered(50), {.batch_size = 7, .shuffle = true, .seed = 3});
  DataLoader b(numbered(50), {.batch_size = 7, .shuffle = true, .seed = 3});
  DataLoader other_seed(numbered(50), {.batch_size = 7, .shuffle = true, .seed = 4});
  std::vector<std::int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);

  std::vector<std::vector<std::int64_t>> orders;
  for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
    a.set_epoch(epoch);
    std::vector<std::int64_t> order = epoch_order(a);
    std::vector<std::int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, identity) << "every example exactly once in epoch " << epoch;
    EXPECT_NE(order, identity);
    orders.push_back(order);
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);
  // Jumping straight to epoch 2 (a resumed run) gives the same order as going through 0 and 1.
  b.set_epoch(2);
  EXPECT_EQ(epoch_order(b), orders[2]);
  b.set_epoch(0);
  EXPECT_EQ(epoch_order(b), orders[0]);
  EXPECT_NE(epoch_order(other_seed), orders[0]);
  // The inputs travel with their targets.
  Batch batch = a.batch(1);
  auto x = batch.inputs.to_vector<double>();
  auto y = batch.targets.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_EQ(x[2 * i + 1], 100.0 + static_cast<double>(y[i]));
}

TEST(DataLoader, TransformRandomnessDependsOnSeedEpochAndBatch) {
  BatchTransform add_noise = [](Batch batch, Generator& gen) {
    batch.inputs = batch.inputs + static_cast<double>(gen.next_u64() % 1000);
    return batch;
  };
  DataLoader a(numbered(8), {.batch_size = 4, .seed = 1}, add_noise);
  DataLoader b(numbered(8), {.batch_size = 4, .seed = 1}, add_noise);
  a.set_epoch(1);
  b.set_epoch(1);
  EXPECT_EQ(a.batch(1).inputs.to_vector<double>(), b.batch(1).inputs.to_vector<double>());
  EXPECT_EQ(a.batch(1).inputs.to_vector<double>(), a.batch(1).inputs.to_vector<double>());
  EXPECT_NE(a.batch(0).inputs.at({0, 0}) - 0.0, a.batch(1).inputs.at({0, 0}) - 4.0);
  const double epoch1 = a.batch(0).inputs.at({0, 0});
  a.set_epoch(2);
  EXPECT_NE(a.batch(0).inputs.at({0, 0}), epoch1);
}

TEST(DataLoader, BadOptions) {
  EXPECT_THROW(DataLoader(numbered(3), {.batch_size = -1}), ValueError);
  EXPECT_THROW(DataLoader(TensorDataset(), {.batch_size = 1}), ValueError);
  EXPECT_THROW(DataLoader(TensorDataset(zeros({0, 3})), {.batch_size = 1}), ValueError);
}

}  // namespace
}  // namespace descent::data
