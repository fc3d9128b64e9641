// TensorDataset, random_split and the DataLoader. Examples are rows of contiguous tensors, so a
// batch is gathered with one memcpy per run of consecutive indices: no per-element tensor ops.

#include "descent/data/dataset.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "internal/check.h"

namespace descent::data {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A seed for one purpose (order or transform), epoch and batch: each argument goes through
// splitmix64 so that neighbouring epochs or batches give unrelated streams.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t purpose, std::uint64_t epoch, std::uint64_t batch) {
  std::uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ purpose);
  h = splitmix64(h ^ epoch);
  return splitmix64(h ^ batch);
}

constexpr std::uint64_t kOrderStream = 0x6f72646572ULL;      // "order"
constexpr std::uint64_t kTransformStream = 0x7866726dULL;    // "xfrm"

// Rows `indices` of a contiguous tensor, as a new contiguous tensor.
Tensor gather_rows(const Tensor& source, const std::vector<std::int64_t>& indices) {
  Shape shape = source.shape();
  const std::int64_t rows = shape[0];
  shape[0] = static_cast<std::int64_t>(indices.size());
  Tensor out = empty(shape, source.dtype());
  const std::size_t row_bytes =
      static_cast<std::size_t>(rows == 0 ? 0 : source.numel() / rows) * element_size(source.dtype());
  const auto* src = static_cast<const char*>(source.impl()->storage->data()) +
                    source.offset() * static_cast<std::int64_t>(element_size(source.dtype()));
  auto* dst = static_cast<char*>(out.impl()->storage->data());
  // Copy runs of consecutive indices at once (an unshuffled batch is a single memcpy).
  std::size_t i = 0;
  while (i < indices.size()) {
    const std::int64_t start = indices[i];
    DESCENT_CHECK_INDEX(start >= 0 && start < rows, "TensorDataset.get: index {} is out of range for {} examples",
                        start, rows);
    std::size_t run = 1;
    while (i + run < indices.size() && indices[i + run] == start + static_cast<std::int64_t>(run)) {
      DESCENT_CHECK_INDEX(indices[i + run] < rows, "TensorDataset.get: index {} is out of range for {} examples",
                          indices[i + run], rows);
      ++run;
    }
    if (row_bytes > 0) {
      std::memcpy(dst + i * row_bytes, src + static_cast<std::size_t>(start) * row_bytes, run * row_bytes);
    }
    i += run;
  }
  return out;
}

// A detached contiguous handle: the dataset never records a graph and gathers with memcpy.
Tensor prepare(const Tensor& t) { return t.defined() ? t.detach().contiguous() : t; }

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  DESCENT_CHECK_SHAPE(inputs.defined() && inputs.dim() >= 1,
                      "TensorDataset: inputs must have a first dimension that counts the examples, got {}",
                      inputs.defined() ? to_string(inputs.shape()) : std::string("an undefined tensor"));
  if (targets.defined()) {
    DESCENT_CHECK_SHAPE(targets.dim() >= 1 && targets.size(0) == inputs.size(0),
                        "TensorDataset: inputs {} and targets {} differ in the number of examples (first dimension)",
                        inputs.shape(), targets.shape());
  }
  inputs_ = prepare(inputs);
  targets_ = prepare(targets);
}

std::int64_t TensorDataset::size() const { return inputs_.defined() ? inputs_.size(0) : 0; }

Batch TensorDataset::get(const std::vector<std::int64_t>& indices) const {
  DESCENT_CHECK_VALUE(inputs_.defined(), "TensorDataset.get: the dataset is empty");
  Batch batch;
  batch.inputs = gather_rows(inputs_, indices);
  if (targets_.defined()) batch.targets = gather_rows(targets_, indices);
  return batch;
}

TensorDataset TensorDataset::subset(const std::vector<std::int64_t>& indices) const {
  Batch b = get(indices);
  return TensorDataset(b.inputs, b.targets);
}

std::pair<TensorDataset, TensorDataset> random_split(const TensorDataset& dataset, double fraction,
                                                     std::uint64_t seed) {
  DESCENT_CHECK_VALUE(fraction > 0 && fraction < 1, "random_split: fraction must be in (0, 1), got {}", fraction);
  const std::int64_t n = dataset.size();
  const auto part = static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(n)));
  DESCENT_CHECK_VALUE(part > 0 && part < n,
                      "random_split: a fraction of {} of {} examples leaves an empty part ({} and {} examples)",
                      fraction, n, n - part, part);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Generator gen(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)], order[gen.integer(static_cast<std::uint64_t>(i) + 1)]);
  }
  // Each part keeps the dataset's order: only membership is random.
  std::vector<std::int64_t> split(order.begin(), order.begin() + part);
  std::vector<std::int64_t> rest(order.begin() + part, order.end());
  std::sort(split.begin(), split.end());
  std::sort(rest.begin(), rest.end());
  return {dataset.subset(rest), dataset.subset(split)};
}

DataLoader::DataLoader(TensorDataset dataset, const DataLoaderOptions& options, BatchTransform transform)
    : dataset_(std::move(dataset)), options_(options), transform_(std::move(transform)) {
  DESCENT_CHECK_VALUE(options_.batch_size >= 0, "DataLoader: batch_size must be >= 0 (0 = the whole dataset), got {}",
                      options_.batch_size);
  DESCENT_CHECK_VALUE(dataset_.size() > 0, "DataLoader: the dataset is empty");
  set_epoch(0);
}

std::int64_t DataLoader::batch_size() const {
  const std::int64_t n = dataset_.size();
  return options_.batch_size == 0 ? n : std::min(options_.batch_size, n);
}

std::size_t DataLoader::num_batches() const {
  const std::int64_t n = dataset_.size();
  const std::int64_t b = batch_size();
  return static_cast<std::size_t>(options_.drop_last ? n / b : (n + b - 1) / b);
}

void DataLoader::set_epoch(std::int64_t epoch) {
  DESCENT_CHECK_VALUE(epoch >= 0, "DataLoader.set_epoch: epoch must be >= 0, got {}", epoch);
  epoch_ = epoch;
  const auto n = static_cast<std::size_t>(dataset_.size());
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), 0);
  if (!options_.shuffle) return;
  // Fisher-Yates with a generator that depends on (seed, epoch) only: resumable at any epoch.
  Generator gen(derive_seed(options_.seed, kOrderStream, static_cast<std::uint64_t>(epoch), 0));
  for (std::size_t i = n - 1; i > 0; --i) std::swap(order_[i], order_[gen.integer(i + 1)]);
}

Batch DataLoader::batch(std::size_t i) const {
  DESCENT_CHECK_INDEX(i < num_batches(), "DataLoader.batch: batch {} is out of range for {} batches", i,
                      num_batches());
  const auto b = static_cast<std::size_t>(batch_size());
  const std::size_t begin = i * b;
  const std::size_t end = std::min(order_.size(), begin + b);
  Batch batch = dataset_.get(std::vector<std::int64_t>(order_.begin() + static_cast<std::ptrdiff_t>(begin),
                                                       order_.begin() + static_cast<std::ptrdiff_t>(end)));
  if (transform_) {
    Generator gen(derive_seed(options_.seed, kTransformStream, static_cast<std::uint64_t>(epoch_), i));
    batch = transform_(std::move(batch), gen);
  }
  return batch;
}

}  // namespace descent::data
