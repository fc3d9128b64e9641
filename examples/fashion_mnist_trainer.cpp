// Trains an MLP on Fashion-MNIST with the library's training API alone (what `descent train` does for a
// configuration): IDX reading, scaling fitted on the training split, a shuffling DataLoader, the Trainer
// with early stopping and a progress display, then the test accuracy and the confusion matrix.
//
//   ./build/examples/fashion_mnist_trainer [epochs] [training examples to use (0: all)] [folder]

#include <descent/descent.h>

#include <cstdio>
#include <iostream>
#include <string>

using namespace descent;

int main(int argc, char** argv) try {
  const int epochs = argc > 1 ? std::stoi(argv[1]) : 5;
  const std::int64_t limit = argc > 2 ? std::stoll(argv[2]) : 0;
  const std::string folder = argc > 3 ? argv[3] : "/usr/share/datasets/fashion-mnist";

  Tensor images = data::read_idx(folder + "/train-images-idx3-ubyte.gz");             // [60000, 28, 28], 0..255
  Tensor labels = data::read_idx(folder + "/train-labels-idx1-ubyte.gz", kInt64);     // [60000]
  Tensor test_images = data::read_idx(folder + "/t10k-images-idx3-ubyte.gz");
  Tensor test_labels = data::read_idx(folder + "/t10k-labels-idx1-ubyte.gz", kInt64);
  data::TensorDataset all(images.reshape({-1, 784}), labels);
  if (limit > 0 && limit < all.size()) {
    std::vector<std::int64_t> first(static_cast<std::size_t>(limit));
    for (std::int64_t i = 0; i < limit; ++i) first[static_cast<std::size_t>(i)] = i;
    all = all.subset(first);
  }
  auto [train_set, val_set] = data::random_split(all, 0.1, /*seed=*/1);

  // Standardize with the training split's statistics only (one mean and std over all pixels).
  data::Scaler scaler(data::ScalerKind::Standardize, /*per_feature=*/false);
  scaler.fit(train_set.inputs());
  data::TensorDataset train(scaler.transform(train_set.inputs()), train_set.targets());
  data::TensorDataset val(scaler.transform(val_set.inputs()), val_set.targets());
  data::TensorDataset test(scaler.transform(test_images.reshape({-1, 784})), test_labels);

  manual_seed(1);
  nn::Sequential model(nn::Linear({.in_features = 784, .out_features = 256}), nn::ReLU(),
                       nn::Linear({.in_features = 256, .out_features = 128}), nn::ReLU(),
                       nn::Linear({.in_features = 128, .out_features = 10}));
  optim::Adam optimizer(model.parameters(), {.lr = 1e-3});

  train::Trainer trainer(model, optimizer, [](const Tensor& out, const Tensor& y) { return cross_entropy(out, y); },
                         {.task = data::Task::Classification, .num_classes = 10});
  trainer.add_callback(std::make_shared<train::ProgressLogger>(std::cout));
  trainer.add_callback(std::make_shared<train::EarlyStopping>(train::EarlyStoppingOptions{.patience = 2, .restore_best_weights = true}));

  data::DataLoader train_loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
  data::DataLoader val_loader(val, {.batch_size = 1024});
  const train::History& history = trainer.fit(train_loader, &val_loader, epochs);

  const train::Evaluation result = trainer.evaluate(data::DataLoader(test, {.batch_size = 1024}));
  std::printf("%s after %zu epochs; test accuracy %.4f, loss %.4f\nconfusion matrix (rows: true class):\n",
              history.stop_reason.c_str(), history.epochs.size(), result.classification->accuracy(), result.loss);
  for (const auto& row : result.classification->confusion_matrix()) {
    for (auto count : row) std::printf("%6lld", static_cast<long long>(count));
    std::printf("\n");
  }
  // Better than chance by far, or something is broken.
  return result.classification->accuracy() > 0.6 ? 0 : 1;
} catch (const descent::Error& e) {
  std::fprintf(stderr, "fashion_mnist_trainer: %s\n", e.what());
  return 2;
}
