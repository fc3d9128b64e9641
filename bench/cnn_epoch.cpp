// One epoch of Fashion-MNIST training with descent, timed; bench/cnn_epoch_torch.py does the same
// with PyTorch and bench/cnn_epoch.sh runs both and prints them side by side.
//
// The network (the same as in the PyTorch script, layer for layer):
//   Conv2d(1, 32, 3, padding=1) BatchNorm2d(32) ReLU MaxPool2d(2)
//   Conv2d(32, 64, 3, padding=1) BatchNorm2d(64) ReLU MaxPool2d(2) Dropout2d(0.1)
//   Flatten Linear(3136, 128) ReLU Dropout(0.3) Linear(128, 10), cross-entropy loss,
// Adam(lr 1e-3), batch 64, the 60000 training images standardized with one global mean and std,
// shuffled, no augmentation, no validation split.
// Timed: one full epoch (938 batches, the last of 32), after 20 untimed warm-up steps; reading and
// standardizing the data are not timed, making each batch (a gather of shuffled rows) is.
// Also timed, in total over the epoch: forward + loss, backward, optimizer step (the rest is the
// batch gather and zero_grad).
//
// Usage: descent_bench_cnn_epoch [threads=1] [data_dir=/usr/share/datasets/fashion-mnist] [max_steps=0 (all)]
// Environment: CONV=im2col runs conv2d without oneDNN (im2col + GEMM), for an A/B of the two paths.
// Prints a human-readable report and one line starting with "RESULT" for bench/cnn_epoch.sh.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "descent/descent.h"

namespace {
using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

int main(int argc, char** argv) {
  namespace nn = descent::nn;
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const std::string dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
  const long max_steps = argc > 3 ? std::atol(argv[3]) : 0;
  constexpr std::int64_t kBatch = 64;
  constexpr int kWarmup = 20;
  descent::set_num_threads(threads);
  // CONV=im2col runs conv2d on its im2col + GEMM path instead of oneDNN (an A/B of the two).
  const char* conv = std::getenv("CONV");
  if (conv != nullptr && std::string(conv) == "im2col") descent::backends::onednn::set_enabled(false);

  // --- data (not timed) ---
  const auto t_load = Clock::now();
  descent::Tensor images = descent::data::read_idx(dir + "/train-images-idx3-ubyte.gz");  // [60000, 28, 28]
  const descent::Tensor labels = descent::data::read_idx(dir + "/train-labels-idx1-ubyte.gz", descent::kInt64);
  descent::data::Scaler scaler(descent::data::ScalerKind::Standardize, /*per_feature=*/false);
  scaler.fit(images);
  scaler.transform_(images);  // in place: the set is never held twice
  images = images.reshape({images.size(0), 1, 28, 28});
  descent::data::DataLoader loader(descent::data::TensorDataset(images, labels),
                                   {.batch_size = kBatch, .shuffle = true, .seed = 1});
  const double load_s = seconds(Clock::now() - t_load);

  // --- model ---
  descent::manual_seed(0);
  nn::Sequential model{nn::Conv2d({.in_channels = 1, .out_channels = 32, .kernel_size = 3, .padding = 1}),
                       nn::BatchNorm2d({.num_features = 32}),
                       nn::ReLU(),
                       nn::MaxPool2d({.kernel_size = 2}),
                       nn::Conv2d({.in_channels = 32, .out_channels = 64, .kernel_size = 3, .padding = 1}),
                       nn::BatchNorm2d({.num_features = 64}),
                       nn::ReLU(),
                       nn::MaxPool2d({.kernel_size = 2}),
                       nn::Dropout2d({.p = 0.1}),
                       nn::Flatten(),
                       nn::Linear({.in_features = 3136, .out_features = 128}),
                       nn::ReLU(),
                       nn::Dropout({.p = 0.3}),
                       nn::Linear({.in_features = 128, .out_features = 10})};
  model.train();
  descent::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});

  double t_forward = 0, t_backward = 0, t_step = 0;
  auto train_step = [&](const descent::data::Batch& batch) {
    optimizer.zero_grad();
    const auto t0 = Clock::now();
    const descent::Tensor loss = descent::cross_entropy(model(batch.inputs), batch.targets);
    const auto t1 = Clock::now();
    loss.backward();
    const auto t2 = Clock::now();
    optimizer.step();
    const auto t3 = Clock::now();
    t_forward += seconds(t1 - t0);
    t_backward += seconds(t2 - t1);
    t_step += seconds(t3 - t2);
    return loss.item();
  };

  // --- warm-up: 20 steps on the first batches of another order ---
  loader.set_epoch(1000);
  for (int i = 0; i < kWarmup; ++i) train_step(loader.batch(static_cast<std::size_t>(i)));
  t_forward = t_backward = t_step = 0;

  // --- the timed epoch ---
  loader.set_epoch(0);
  std::size_t steps = loader.num_batches();
  if (max_steps > 0 && static_cast<std::size_t>(max_steps) < steps) steps = static_cast<std::size_t>(max_steps);
  double loss_sum = 0, last_sum = 0;
  std::int64_t images_seen = 0;
  const std::size_t last_from = steps > 100 ? steps - 100 : 0;
  const auto t_epoch = Clock::now();
  for (std::size_t i = 0; i < steps; ++i) {
    const descent::data::Batch batch = loader.batch(i);
    const double loss = train_step(batch);
    loss_sum += loss;
    if (i >= last_from) last_sum += loss;
    images_seen += batch.inputs.size(0);
  }
  const double epoch_s = seconds(Clock::now() - t_epoch);

  const double loss_mean = loss_sum / static_cast<double>(steps);
  const double loss_last = last_sum / static_cast<double>(steps - last_from);
  std::printf("descent: %d thread(s), data loaded and standardized in %.2f s (not timed)\n", threads, load_s);
  std::printf("descent: epoch of %zu steps (%lld images) in %.2f s = %.0f images/s; forward+loss %.2f s, backward "
              "%.2f s, optimizer %.2f s, rest %.2f s\n",
              steps, static_cast<long long>(images_seen), epoch_s, images_seen / epoch_s, t_forward, t_backward,
              t_step, epoch_s - t_forward - t_backward - t_step);
  std::printf("descent: mean training loss over the epoch %.4f, over its last %zu steps %.4f\n", loss_mean,
              steps - last_from, loss_last);
  std::printf("RESULT framework=descent threads=%d config=- steps=%zu images=%lld epoch_s=%.3f images_per_s=%.1f "
              "forward_s=%.3f backward_s=%.3f step_s=%.3f loss_mean=%.4f loss_last100=%.4f\n",
              threads, steps, static_cast<long long>(images_seen), epoch_s, images_seen / epoch_s, t_forward,
              t_backward, t_step, loss_mean, loss_last);
  return 0;
}
