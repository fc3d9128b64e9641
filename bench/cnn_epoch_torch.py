#!/usr/bin/python3
"""One epoch of Fashion-MNIST training with PyTorch, timed: the counterpart of
bench/cnn_epoch.cpp (same network, batch size, optimizer, data preparation and timing rules).
Run it with Debian's /usr/bin/python3 (torch 1.13); bench/cnn_epoch.sh sets OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS before Python starts.

The network: Conv2d(1,32,3,padding=1) BatchNorm2d(32) ReLU MaxPool2d(2) Conv2d(32,64,3,padding=1)
BatchNorm2d(64) ReLU MaxPool2d(2) Dropout2d(0.1) Flatten Linear(3136,128) ReLU Dropout(0.3)
Linear(128,10), cross-entropy, Adam(lr=1e-3), batch 64. Data: the 60000 training images from
bench/fashion_mnist.py, standardized with one global mean and std; batches are rows of a pre-built tensor
picked by a randperm (no DataLoader, no workers). Timed: one full epoch after 20 warm-up steps.

--config picks PyTorch's settings: mkldnn=on|off (torch.backends.mkldnn.enabled, which routes
convolutions and their gradients to oneDNN; "on" only counts when torch.backends.mkldnn.is_available())
and channels_last=on|off (model and images in torch.channels_last memory format).
bench/cnn_epoch.sh tries the four combinations on a short run each (--max-steps, each in its own
process, so that one trial's heap does not speed up or slow down the next) and times the epoch with
the fastest.

Prints a human-readable report and one line starting with "RESULT" for bench/cnn_epoch.sh.
"""

import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from fashion_mnist import load_training_set


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout2d(0.1), nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 10))


class Trainer:
    """A fresh model and optimizer in one configuration; step() runs one training step and adds
    the time of its phases to the totals."""

    def __init__(self, images, labels, mkldnn, channels_last):
        self.mkldnn, self.channels_last = mkldnn, channels_last
        torch.manual_seed(0)
        self.model = make_model()
        self.images = images
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
            self.images = images.contiguous(memory_format=torch.channels_last)
        self.labels = labels
        self.model.train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.forward_s = self.backward_s = self.step_s = 0.0

    def step(self, index):
        x, y = self.images[index], self.labels[index]
        with torch.backends.mkldnn.flags(enabled=self.mkldnn):
            self.optimizer.zero_grad()
            t0 = time.perf_counter()
            loss = F.cross_entropy(self.model(x), y)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            self.optimizer.step()
            t3 = time.perf_counter()
        self.forward_s += t1 - t0
        self.backward_s += t2 - t1
        self.step_s += t3 - t2
        return loss.item()

    def reset_times(self):
        self.forward_s = self.backward_s = self.step_s = 0.0


def config_name(mkldnn, channels_last):
    return f"mkldnn={'on' if mkldnn else 'off'},channels_last={'on' if channels_last else 'off'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--config", default="mkldnn=on,channels_last=off",
                        help="mkldnn=on|off,channels_last=on|off")
    parser.add_argument("--max-steps", type=int, default=0, help="stop the epoch early (0: full epoch)")
    args = parser.parse_args()

    batch, warmup = 64, 20
    torch.set_num_threads(args.threads)

    # --- data (not timed) ---
    images, labels, load_s = load_training_set(args.data)
    images = images.reshape(-1, 1, 28, 28)
    n = images.shape[0]
    print(f"torch {torch.__version__}: {args.threads} thread(s) (torch.get_num_threads() = "
          f"{torch.get_num_threads()}), mkldnn available: {torch.backends.mkldnn.is_available()}; data loaded and "
          f"standardized in {load_s:.2f} s (not timed)")

    opts = dict(kv.split("=") for kv in args.config.split(","))
    mkldnn = opts.get("mkldnn", "on") == "on" and torch.backends.mkldnn.is_available()
    channels_last = opts.get("channels_last", "off") == "on"

    # --- warm-up and the timed epoch, on a fresh model ---
    trainer = Trainer(images, labels, mkldnn, channels_last)
    g = torch.Generator().manual_seed(1)
    warm_order = torch.randperm(n, generator=g)
    for i in range(warmup):
        trainer.step(warm_order[i * batch:(i + 1) * batch])
    trainer.reset_times()
    order = torch.randperm(n, generator=g)
    steps = (n + batch - 1) // batch
    if args.max_steps > 0:
        steps = min(steps, args.max_steps)
    last_from = max(steps - 100, 0)
    losses = []
    seen = 0
    t = time.perf_counter()
    for i in range(steps):
        index = order[i * batch:(i + 1) * batch]
        losses.append(trainer.step(index))
        seen += index.numel()
    epoch_s = time.perf_counter() - t

    loss_mean = sum(losses) / steps
    loss_last = sum(losses[last_from:]) / (steps - last_from)
    rest = epoch_s - trainer.forward_s - trainer.backward_s - trainer.step_s
    config = config_name(mkldnn, channels_last)
    print(f"torch: {config}: epoch of {steps} steps ({seen} images) in {epoch_s:.2f} s = {seen / epoch_s:.0f} "
          f"images/s; forward+loss {trainer.forward_s:.2f} s, backward {trainer.backward_s:.2f} s, "
          f"optimizer {trainer.step_s:.2f} s, rest {rest:.2f} s")
    print(f"torch: mean training loss over the epoch {loss_mean:.4f}, over its last {steps - last_from} steps "
          f"{loss_last:.4f}")
    print(f"RESULT framework=torch threads={args.threads} config={config} steps={steps} images={seen} "
          f"epoch_s={epoch_s:.3f} images_per_s={seen / epoch_s:.1f} forward_s={trainer.forward_s:.3f} "
          f"backward_s={trainer.backward_s:.3f} step_s={trainer.step_s:.3f} loss_mean={loss_mean:.4f} "
          f"loss_last100={loss_last:.4f}")


if __name__ == "__main__":
    main()
