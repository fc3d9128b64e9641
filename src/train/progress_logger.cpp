// ProgressLogger: a bar redrawn in place on a terminal, or one line per epoch in a log file.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

#include <fmt/format.h>

#include "descent/train/callbacks.h"
#include "descent/train/trainer.h"

namespace descent::train {

namespace {

constexpr double kRedrawSeconds = 0.1;  // at most 10 redraws a second: drawing must not slow training
constexpr int kBarWidth = 10;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Auto: a bar only when the stream is a terminal (a redirected log would fill with '\r' frames).
ProgressStyle resolve(std::ostream& out, ProgressStyle style) {
  if (style != ProgressStyle::Auto) return style;
  int fd = -1;
  if (&out == &std::cout) fd = fileno(stdout);
  if (&out == &std::cerr || &out == &std::clog) fd = fileno(stderr);
  return fd >= 0 && isatty(fd) ? ProgressStyle::Bar : ProgressStyle::Lines;
}

std::string duration(double seconds) {
  const auto s = static_cast<std::int64_t>(std::llround(std::max(seconds, 0.0)));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
}

// Keys in reading order: the loss, training metrics, validation loss and metrics, lr, the rest.
int rank(const std::string& key) {
  if (key == "loss") return 0;
  if (key == "val_loss") return 2;
  if (key.rfind("val_", 0) == 0) return 3;
  if (key == "lr") return 5;
  if (key == "accuracy" || key == "macro_f1" || key == "mae" || key == "rmse" || key == "r2" ||
      key.find("_accuracy") != std::string::npos) {
    return 1;
  }
  return 4;
}

std::string epoch_line(const EpochLogs& logs, std::int64_t epochs) {
  const auto epoch = logs.find("epoch");
  std::string line = fmt::format("epoch {}/{}", epoch == logs.end() ? 0 : std::llround(epoch->second), epochs);
  std::vector<std::string> keys;
  for (const auto& [key, value] : logs) {
    // Dotted keys are per-layer statistics ("grad_norm.0"): for the metrics files, not the line.
    if (key != "epoch" && key != "seconds" && key.find('.') == std::string::npos) keys.push_back(key);
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return rank(a) < rank(b); });
  for (const std::string& key : keys) {
    const double v = logs.at(key);
    line += key == "lr" ? fmt::format(" lr {:.4g}", v) : fmt::format(" {} {:.4f}", key, v);
  }
  if (const auto s = logs.find("seconds"); s != logs.end()) line += fmt::format(" {:.1f}s", s->second);
  return line;
}

}  // namespace

ProgressLogger::ProgressLogger(std::ostream& out, ProgressStyle style) : out_(out), style_(resolve(out, style)) {}

void ProgressLogger::on_epoch_begin(Trainer&, std::int64_t) {
  epoch_start_ = now_seconds();
  last_draw_ = -kRedrawSeconds;
  drawn_width_ = 0;
}

void ProgressLogger::on_step_end(Trainer& trainer, const StepRecord&) {
  if (style_ != ProgressStyle::Bar) return;
  const double now = now_seconds();
  if (now - last_draw_ < kRedrawSeconds) return;
  draw(trainer, now);
}

void ProgressLogger::draw(Trainer& trainer, double now) {
  last_draw_ = now;
  const FitProgress p = trainer.progress();
  const double elapsed = std::max(now - epoch_start_, 1e-9);
  const std::int64_t total = std::max<std::int64_t>(p.steps_per_epoch, 1);
  const auto filled = static_cast<int>(kBarWidth * p.step_in_epoch / total);
  std::string line = fmt::format("epoch {}/{} [{}{}] {}/{} loss {:.4f}", p.epoch, p.epochs, std::string(filled, '#'),
                                 std::string(kBarWidth - filled, '.'), p.step_in_epoch, p.steps_per_epoch, p.loss);
  if (!p.metric_name.empty()) line += fmt::format(" {} {:.4f}", p.metric_name == "accuracy" ? "acc" : p.metric_name, p.metric);
  const double eta = p.step_in_epoch > 0 ? elapsed / static_cast<double>(p.step_in_epoch) *
                                               static_cast<double>(p.steps_per_epoch - p.step_in_epoch)
                                         : 0.0;
  line += fmt::format(" {:.0f} samples/s ETA {}", static_cast<double>(p.samples_in_epoch) / elapsed, duration(eta));
  const std::size_t width = line.size();
  if (width < drawn_width_) line.append(drawn_width_ - width, ' ');
  drawn_width_ = width;
  out_ << '\r' << line << std::flush;
}

void ProgressLogger::on_epoch_end(Trainer& trainer, EpochLogs& logs) {
  if (style_ == ProgressStyle::Quiet) return;
  std::string line = epoch_line(logs, trainer.progress().epochs);
  if (style_ == ProgressStyle::Bar) {
    if (line.size() < drawn_width_) line.append(drawn_width_ - line.size(), ' ');
    out_ << '\r';
    drawn_width_ = 0;
  }
  out_ << line << '\n' << std::flush;
}

}  // namespace descent::train
