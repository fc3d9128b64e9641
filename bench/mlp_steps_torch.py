#!/usr/bin/python3
"""The MLP's training step, a tiny network's step, and a Fashion-MNIST epoch, timed with PyTorch:
the counterpart of bench/mlp_steps.cpp (same networks, initialization scheme, data, batch sizes,
optimizers and timing rules). Run it with Debian's /usr/bin/python3 (torch 1.13);
bench/mlp_steps.sh sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS before Python starts.

The MLP: Flatten Linear(784,256) ReLU Linear(256,128) ReLU Linear(128,10), PyTorch's default
initialization, cross-entropy, Adam(lr=1e-3). A step is zero_grad, forward, loss, backward,
optimizer step.

  mlp_steps_torch.py steps [--threads T] [--reps 5] [--max-steps 0]
    1. the MLP's step at batch 1, 16, 64, 256, 1024 on one fixed random batch per size (standard
       normal inputs, labels uniform in 0..9, drawn once): 20 warm-up steps, then `reps` blocks of
       max(20, 2000 // batch) steps; the median over the blocks of the mean ms per step;
    2. framework overhead: Linear(2,2) Tanh Linear(2,1), MSE loss, SGD(lr=0.1), batch 1, blocks of
       20000 steps; us per step;
    3. GFLOP/s of the MLP step at batch 1024 (the count of bench/mlp_steps.cpp: 2*B*503552 per step)
       next to torch.mm on 1024 x 1024 x 1024 float32.
  mlp_steps_torch.py epoch [--threads T] [--batch 64] [--data DIR] [--max-steps 0]
    one epoch of Fashion-MNIST (the 60000 training images from bench/fashion_mnist.py, standardized with
    one global mean and std; batches are rows of a pre-built tensor picked by a randperm, no
    workers), after 20 warm-up steps; epoch seconds, mean loss of the last 100 steps and the
    process's peak resident memory (resource.getrusage ru_maxrss).

PyTorch's fastest settings for these steps (checked on this machine): zero_grad(set_to_none=True),
which is also what descent's zero_grad does, and Adam's for-each implementation
(--adam-foreach on|off, default on: one call per op for all parameters, less Python per step).
FLUSH_DENORMAL=1 in the environment calls torch.set_flush_denormal(True), as bench/mlp_steps.cpp
then sets flush-to-zero: Adam's moments of parameters whose gradient stays 0 (dead ReLU units on a
fixed batch) decay into denormal floats, which are many times slower to compute with.

Prints a human-readable report and lines starting with "RESULT" for bench/mlp_steps.sh.
"""

import argparse
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from fashion_mnist import load_training_set

WARMUP = 20
IN, HIDDEN1, HIDDEN2, CLASSES = 784, 256, 128, 10


def mlp_step_flops(batch):
    """Forward 2*B*(784*256 + 256*128 + 128*10); backward twice that less the first layer's input
    gradient: 2*B*503552 in all (bias, ReLU, loss and Adam not counted)."""
    products = IN * HIDDEN1 + HIDDEN1 * HIDDEN2 + HIDDEN2 * CLASSES
    return 2.0 * batch * (3 * products - IN * HIDDEN1)


def make_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(IN, HIDDEN1), nn.ReLU(), nn.Linear(HIDDEN1, HIDDEN2), nn.ReLU(),
                         nn.Linear(HIDDEN2, CLASSES))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def median_seconds_per_step(step, reps, block):
    """The median over `reps` blocks of `block` calls of step() of the mean seconds per call."""
    for _ in range(WARMUP):
        step()
    per_step = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(block):
            step()
        per_step.append((time.perf_counter() - t0) / block)
    return statistics.median(per_step)


def capped(steps, max_steps):
    return min(steps, max_steps) if max_steps > 0 else steps


def run_steps(args, foreach):
    data_generator = torch.Generator().manual_seed(42)
    ms_at_1024 = 0.0
    for batch in (1, 16, 64, 256, 1024):
        torch.manual_seed(0)
        model = make_mlp()
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach)
        inputs = torch.randn(batch, IN, generator=data_generator)
        labels = torch.randint(0, CLASSES, (batch,), generator=data_generator)
        block = capped(max(20, 2000 // batch), args.max_steps)

        def step():
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(inputs), labels).backward()
            optimizer.step()

        s = median_seconds_per_step(step, args.reps, block)
        if batch == 1024:
            ms_at_1024 = s * 1e3
        print(f"torch: MLP step, batch {batch:4d}: {s * 1e3:8.3f} ms (median of {args.reps} blocks of {block} steps)")
        print(f"RESULT framework=torch measure=step batch={batch} threads={args.threads} ms={s * 1e3:.4f}")

    torch.manual_seed(0)
    tiny = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    tiny.train()
    optimizer = torch.optim.SGD(tiny.parameters(), lr=0.1, foreach=foreach)
    x = torch.randn(1, 2, generator=data_generator)
    y = torch.randn(1, 1, generator=data_generator)
    block = capped(20000, args.max_steps)

    def tiny_step():
        optimizer.zero_grad(set_to_none=True)
        F.mse_loss(tiny(x), y).backward()
        optimizer.step()

    s = median_seconds_per_step(tiny_step, args.reps, block)
    print(f"torch: 2-2-1 tanh step (MSE, SGD), batch 1: {s * 1e6:.2f} us (median of {args.reps} blocks of {block} "
          f"steps)")
    print(f"RESULT framework=torch measure=tiny_step batch=1 threads={args.threads} us={s * 1e6:.3f}")

    # torch.mm on a big square product: the best this machine's cores do through torch.
    n = 1024
    a = torch.randn(n, n, generator=data_generator)
    b = torch.randn(n, n, generator=data_generator)
    c = torch.empty(n, n)
    mm_s = median_seconds_per_step(lambda: torch.mm(a, b, out=c), args.reps, capped(10, args.max_steps))
    mm_gflops = 2.0 * n ** 3 / mm_s / 1e9
    mlp_gflops = mlp_step_flops(1024) / (ms_at_1024 / 1e3) / 1e9
    print(f"torch: MLP step at batch 1024: {mlp_gflops:.1f} GFLOP/s effective ({mlp_step_flops(1024):.0f} flops per "
          f"step = 2*B*503552)")
    print(f"torch: torch.mm {n}x{n}x{n} float32: {mm_gflops:.1f} GFLOP/s")
    print(f"RESULT framework=torch measure=gflops_mlp batch=1024 threads={args.threads} gflops={mlp_gflops:.2f} "
          f"flops_per_step={mlp_step_flops(1024):.0f}")
    print(f"RESULT framework=torch measure=gflops_gemm batch={n} threads={args.threads} gflops={mm_gflops:.2f}")
    print(f"torch: peak resident memory of this process {peak_rss_mib():.1f} MiB")


def run_epoch(args, foreach):
    # --- data (not timed) ---
    images, labels, load_s = load_training_set(args.data)  # [60000, 28, 28], [60000]
    n = images.shape[0]

    torch.manual_seed(0)
    model = make_mlp()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach)

    def train_step(index):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images[index]), labels[index])
        loss.backward()
        optimizer.step()
        return loss.item()

    # --- warm-up: 20 steps on the first batches of another order ---
    batch = args.batch
    g = torch.Generator().manual_seed(1)
    warm_order = torch.randperm(n, generator=g)
    for i in range(WARMUP):
        train_step(warm_order[i * batch:(i + 1) * batch])

    # --- the timed epoch ---
    order = torch.randperm(n, generator=g)
    steps = capped((n + batch - 1) // batch, args.max_steps)
    last_from = max(steps - 100, 0)
    losses = []
    seen = 0
    t = time.perf_counter()
    for i in range(steps):
        index = order[i * batch:(i + 1) * batch]
        losses.append(train_step(index))
        seen += index.numel()
    epoch_s = time.perf_counter() - t
    loss_last = sum(losses[last_from:]) / (steps - last_from)
    rss = peak_rss_mib()

    print(f"torch: {args.threads} thread(s), data loaded and standardized in {load_s:.2f} s (not timed)")
    print(f"torch: MLP epoch at batch {batch}: {steps} steps ({seen} images) in {epoch_s:.2f} s = "
          f"{seen / epoch_s:.0f} images/s; mean loss of the last {steps - last_from} steps {loss_last:.4f}; peak "
          f"resident memory {rss:.1f} MiB")
    print(f"RESULT framework=torch measure=epoch batch={batch} threads={args.threads} steps={steps} s={epoch_s:.3f} "
          f"loss_last100={loss_last:.4f} peak_rss_mib={rss:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["steps", "epoch"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64, help="epoch mode: batch size")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--max-steps", type=int, default=0, help="cap every timed block / the epoch (0: no cap)")
    parser.add_argument("--adam-foreach", choices=["on", "off"], default="on")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    foreach = args.adam_foreach == "on"
    flush_denormal = os.environ.get("FLUSH_DENORMAL", "0") == "1" and torch.set_flush_denormal(True)
    print(f"torch {torch.__version__}: {args.threads} thread(s) (torch.get_num_threads() = {torch.get_num_threads()}), "
          f"optimizer foreach={foreach}, zero_grad(set_to_none=True), flush_denormal={int(flush_denormal)}")
    if args.mode == "steps":
        run_steps(args, foreach)
    else:
        run_epoch(args, foreach)


if __name__ == "__main__":
    main()
