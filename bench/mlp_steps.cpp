// The MLP's training step, a tiny network's step, and a Fashion-MNIST epoch, timed with descent;
// bench/mlp_steps_torch.py does the same with PyTorch and bench/mlp_steps.sh runs both side by side.
//
// The MLP (the same as in the PyTorch script, layer for layer, both initialized the PyTorch way:
// kaiming_uniform(a = sqrt(5)) weights, U(-1/sqrt(in), 1/sqrt(in)) biases):
//   Flatten Linear(784, 256) ReLU Linear(256, 128) ReLU Linear(128, 10), cross-entropy, Adam(lr 1e-3).
// A step is zero_grad, forward, loss, backward, optimizer step.
//
// Two modes, so that each epoch runs in its own process and its peak resident memory is its own:
//
//   descent_bench_mlp steps [threads=1] [reps=5] [max_steps=0]
//     1. the MLP's step at batch 1, 16, 64, 256, 1024 on one fixed random batch per size
//        (standard normal inputs, labels uniform in 0..9, drawn once): 20 warm-up steps, then `reps`
//        blocks of max(20, 2000 / batch) steps; the median over the blocks of the mean ms per step;
//     2. the framework's overhead: Linear(2, 2) Tanh Linear(2, 1), MSE loss, SGD(lr 0.1), batch 1,
//        blocks of 20000 steps; µs per step;
//     3. GFLOP/s of the MLP step at batch 1024 (count below) next to raw cblas_sgemm on
//        1024 x 1024 x 1024 float32 (the BLAS descent calls, same thread count).
//     max_steps > 0 caps every block at that many steps (quick checks).
//
//   descent_bench_mlp epoch [threads=1] [batch=64] [data_dir=/usr/share/datasets/fashion-mnist] [max_steps=0]
//     one epoch of Fashion-MNIST (60000 training images, standardized with one global mean and std,
//     shuffled DataLoader), after 20 untimed warm-up steps; the batch gather is timed, reading and
//     standardizing the data are not. Reports the epoch's seconds, the mean loss of its last 100
//     steps and the process's peak resident memory (getrusage ru_maxrss).
//
// FLUSH_DENORMAL=1 in the environment sets the CPU's flush-to-zero and denormals-are-zero modes at
// start-up (inherited by the OpenMP and BLAS threads created later), as torch.set_flush_denormal(True)
// does in the PyTorch script: Adam's moments of parameters whose gradient stays 0 (dead ReLU units
// on a fixed batch) decay into denormal floats, which are many times slower to compute with.
//
// Prints a human-readable report and lines starting with "RESULT" for bench/mlp_steps.sh.

#include <cblas.h>
#include <sys/resource.h>

#if defined(__x86_64__) || defined(__i386__)
#include <pmmintrin.h>  // flush-to-zero and denormals-are-zero modes
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "descent/descent.h"

namespace {
namespace nn = descent::nn;
using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

constexpr int kWarmup = 20;
constexpr std::int64_t kIn = 784, kHidden1 = 256, kHidden2 = 128, kClasses = 10;

// Flops of one MLP step at batch B: forward 2*B*(784*256 + 256*128 + 128*10) (the three products);
// backward twice that (weight gradient and input gradient of each product) less the input gradient
// of the first layer, which nothing needs: 2*B*(2*(784*256 + 256*128 + 128*10) - 784*256).
// Total 2*B*503552; bias, ReLU, loss and Adam are not counted.
double mlp_step_flops(std::int64_t batch) {
  const double products = kIn * kHidden1 + kHidden1 * kHidden2 + kHidden2 * kClasses;
  return 2.0 * static_cast<double>(batch) * (3 * products - kIn * kHidden1);
}

nn::Sequential make_mlp() {
  return nn::Sequential{nn::Flatten(),
                        nn::Linear({.in_features = kIn, .out_features = kHidden1}),
                        nn::ReLU(),
                        nn::Linear({.in_features = kHidden1, .out_features = kHidden2}),
                        nn::ReLU(),
                        nn::Linear({.in_features = kHidden2, .out_features = kClasses})};
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The median over `reps` blocks of `block` calls of step() of the mean seconds per call.
template <typename Step>
double median_seconds_per_step(Step&& step, int reps, long block) {
  for (int i = 0; i < kWarmup; ++i) step();
  std::vector<double> per_step;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (long i = 0; i < block; ++i) step();
    per_step.push_back(seconds(Clock::now() - t0) / static_cast<double>(block));
  }
  return median(per_step);
}

long capped(long steps, long max_steps) { return max_steps > 0 ? std::min(steps, max_steps) : steps; }

int run_steps(int threads, int reps, long max_steps) {
  descent::Generator data_generator(42);
  double ms_at_1024 = 0;
  for (const std::int64_t batch : {1, 16, 64, 256, 1024}) {
    descent::manual_seed(0);
    nn::Sequential model = make_mlp();
    model.train();
    descent::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
    const descent::Tensor inputs = descent::randn({batch, kIn}, data_generator);
    const descent::Tensor labels = descent::randint(0, kClasses, {batch}, data_generator);
    const long block = capped(std::max<long>(20, 2000 / batch), max_steps);
    const double s = median_seconds_per_step(
        [&] {
          optimizer.zero_grad();
          descent::cross_entropy(model(inputs), labels).backward();
          optimizer.step();
        },
        reps, block);
    if (batch == 1024) ms_at_1024 = s * 1e3;
    std::printf("descent: MLP step, batch %4lld: %8.3f ms (median of %d blocks of %ld steps)\n",
                static_cast<long long>(batch), s * 1e3, reps, block);
    std::printf("RESULT framework=descent measure=step batch=%lld threads=%d ms=%.4f\n", static_cast<long long>(batch),
                threads, s * 1e3);
  }

  {
    descent::manual_seed(0);
    nn::Sequential tiny{nn::Linear({.in_features = 2, .out_features = 2}), nn::Tanh(),
                        nn::Linear({.in_features = 2, .out_features = 1})};
    tiny.train();
    descent::optim::SGD optimizer(tiny.parameters(), {.lr = 0.1});
    const descent::Tensor x = descent::randn({1, 2}, data_generator);
    const descent::Tensor y = descent::randn({1, 1}, data_generator);
    const long block = capped(20000, max_steps);
    const double s = median_seconds_per_step(
        [&] {
          optimizer.zero_grad();
          descent::mse_loss(tiny(x), y).backward();
          optimizer.step();
        },
        reps, block);
    std::printf("descent: 2-2-1 tanh step (MSE, SGD), batch 1: %.2f us (median of %d blocks of %ld steps)\n", s * 1e6,
                reps, block);
    std::printf("RESULT framework=descent measure=tiny_step batch=1 threads=%d us=%.3f\n", threads, s * 1e6);
  }

  // Raw BLAS on a big square product: what this machine's cores can do at best.
  constexpr int kN = 1024;
  std::vector<float> a(kN * kN), b(kN * kN), c(kN * kN);
  descent::Generator fill(7);
  for (auto& v : a) v = static_cast<float>(fill.normal());
  for (auto& v : b) v = static_cast<float>(fill.normal());
  const double gemm_s = median_seconds_per_step(
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kN, kN, kN, 1.0f, a.data(), kN, b.data(), kN, 0.0f,
                    c.data(), kN);
      },
      reps, capped(10, max_steps));
  const double gemm_gflops = 2.0 * kN * kN * kN / gemm_s / 1e9;
  const double mlp_gflops = mlp_step_flops(1024) / (ms_at_1024 / 1e3) / 1e9;
  std::printf("descent: MLP step at batch 1024: %.1f GFLOP/s effective (%.0f flops per step = 2*B*503552: "
              "forward 2*B*234752, backward twice that less the first layer's input gradient)\n",
              mlp_gflops, mlp_step_flops(1024));
  std::printf("descent: raw cblas_sgemm %dx%dx%d float32: %.1f GFLOP/s\n", kN, kN, kN, gemm_gflops);
  std::printf("RESULT framework=descent measure=gflops_mlp batch=1024 threads=%d gflops=%.2f flops_per_step=%.0f\n",
              threads, mlp_gflops, mlp_step_flops(1024));
  std::printf("RESULT framework=descent measure=gflops_gemm batch=%d threads=%d gflops=%.2f\n", kN, threads,
              gemm_gflops);
  std::printf("descent: peak resident memory of this process %.1f MiB\n", peak_rss_mib());
  return 0;
}

int run_epoch(int threads, std::int64_t batch_size, const std::string& dir, long max_steps) {
  // --- data (not timed) ---
  const auto t_load = Clock::now();
  descent::Tensor images = descent::data::read_idx(dir + "/train-images-idx3-ubyte.gz");  // [60000, 28, 28]
  const descent::Tensor labels = descent::data::read_idx(dir + "/train-labels-idx1-ubyte.gz", descent::kInt64);
  descent::data::Scaler scaler(descent::data::ScalerKind::Standardize, /*per_feature=*/false);
  scaler.fit(images);
  scaler.transform_(images);  // in place: the set is never held twice (peak memory)
  descent::data::DataLoader loader(descent::data::TensorDataset(images, labels),
                                   {.batch_size = batch_size, .shuffle = true, .seed = 1});
  const double load_s = seconds(Clock::now() - t_load);

  descent::manual_seed(0);
  nn::Sequential model = make_mlp();
  model.train();
  descent::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
  auto train_step = [&](const descent::data::Batch& batch) {
    optimizer.zero_grad();
    const descent::Tensor loss = descent::cross_entropy(model(batch.inputs), batch.targets);
    loss.backward();
    optimizer.step();
    return loss.item();
  };

  // --- warm-up: 20 steps on the first batches of another order ---
  loader.set_epoch(1000);
  for (int i = 0; i < kWarmup; ++i) train_step(loader.batch(static_cast<std::size_t>(i)));

  // --- the timed epoch ---
  loader.set_epoch(0);
  const std::size_t steps = static_cast<std::size_t>(capped(static_cast<long>(loader.num_batches()), max_steps));
  const std::size_t last_from = steps > 100 ? steps - 100 : 0;
  double last_sum = 0;
  std::int64_t images_seen = 0;
  const auto t_epoch = Clock::now();
  for (std::size_t i = 0; i < steps; ++i) {
    const descent::data::Batch batch = loader.batch(i);
    const double loss = train_step(batch);
    if (i >= last_from) last_sum += loss;
    images_seen += batch.inputs.size(0);
  }
  const double epoch_s = seconds(Clock::now() - t_epoch);
  const double loss_last = last_sum / static_cast<double>(steps - last_from);
  const double rss = peak_rss_mib();

  std::printf("descent: %d thread(s), data loaded and standardized in %.2f s (not timed)\n", threads, load_s);
  std::printf("descent: MLP epoch at batch %lld: %zu steps (%lld images) in %.2f s = %.0f images/s; mean loss of "
              "the last %zu steps %.4f; peak resident memory %.1f MiB\n",
              static_cast<long long>(batch_size), steps, static_cast<long long>(images_seen), epoch_s,
              images_seen / epoch_s, steps - last_from, loss_last, rss);
  std::printf("RESULT framework=descent measure=epoch batch=%lld threads=%d steps=%zu s=%.3f loss_last100=%.4f "
              "peak_rss_mib=%.1f\n",
              static_cast<long long>(batch_size), threads, steps, epoch_s, loss_last, rss);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const char* flush_env = std::getenv("FLUSH_DENORMAL");
  const bool flush_denormal = flush_env != nullptr && std::string(flush_env) == "1";
  if (flush_denormal) {  // before any thread exists, so that every thread inherits the mode
#if defined(__x86_64__) || defined(__i386__)
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#else
    std::fprintf(stderr, "descent_bench_mlp: FLUSH_DENORMAL=1 ignored: not an x86 build\n");
#endif
  }
  std::printf("descent: %d thread(s), flush_denormal=%d\n", threads, flush_denormal ? 1 : 0);
  descent::set_num_threads(threads);
  if (mode == "steps") {
    const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
    const long max_steps = argc > 4 ? std::atol(argv[4]) : 0;
    return run_steps(threads, reps, max_steps);
  }
  if (mode == "epoch") {
    const std::int64_t batch = argc > 3 ? std::atoll(argv[3]) : 64;
    const std::string dir = argc > 4 ? argv[4] : "/usr/share/datasets/fashion-mnist";
    const long max_steps = argc > 5 ? std::atol(argv[5]) : 0;
    return run_epoch(threads, batch, dir, max_steps);
  }
  std::fprintf(stderr,
               "usage: descent_bench_mlp steps [threads] [reps] [max_steps]\n"
               "       descent_bench_mlp epoch [threads] [batch] [data_dir] [max_steps]\n");
  return 2;
}
