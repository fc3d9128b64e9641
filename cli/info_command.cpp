// descent info MODEL: what a checkpoint or model file holds: the layers with their output shapes and
// parameter counts, the data it expects, how it was trained and how training went.
#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "saved_model.h"

namespace descent::cli {

int info_command(const InfoArgs& args, std::ostream& out, std::ostream&) {
  LoadedModel m = load_model(args.model);
  const auto& f = m.format;
  out << fmt::format("{} ({})\n", m.path.string(), m.is_checkpoint ? "checkpoint" : "model");
  out << fmt::format("data: {} {}, examples of shape {}", f.format, f.spec.task == data::Task::Classification ? "classification" : "regression",
                     fmt::join(f.spec.example_shape, "x"));
  if (f.spec.task == data::Task::Classification) out << fmt::format(", {} classes: {}", f.spec.num_classes, fmt::join(f.classes, ", "));
  else out << fmt::format(", targets: {}", fmt::join(f.target_names, ", "));
  if (!f.feature_names.empty()) out << fmt::format("\nfeatures: {}", fmt::join(f.feature_names, ", "));
  out << fmt::format("\nscaling: {}\n", data::to_string(f.scaler.kind()));
  out << fmt::format("loss: {}; optimizer: {}; batch size {}; seed {}\n\n", to_string(m.built.loss), m.config.string("optimizer.name"),
                     m.config.integer("training.batch_size"), m.config.integer("seed"));
  Shape example = f.spec.example_shape;
  example.insert(example.begin(), 1);
  out << m.built.model->summary(example) << "\n";
  if (m.history && !m.history->epochs.empty()) {
    const auto& h = *m.history;
    const auto& last = h.epochs.back();
    out << fmt::format("\ntrained {} epochs ({} steps)", h.epochs.size(), h.steps.empty() ? 0 : h.steps.back().step);
    if (!h.stop_reason.empty()) out << fmt::format(", {}", h.stop_reason);
    out << "\nlast epoch:";
    for (const auto& [k, v] : last)
      if (k != "epoch") out << fmt::format(" {} {:.4g}", k, v);
    out << "\n";
    for (const char* key : {"val_accuracy", "val_loss"}) {
      const auto col = h.column(key);
      std::size_t best = col.size();
      for (std::size_t i = 0; i < col.size(); ++i)
        if (std::isfinite(col[i]) && (best == col.size() || (std::string(key) == "val_loss" ? col[i] < col[best] : col[i] > col[best]))) best = i;
      if (best < col.size()) out << fmt::format("best {}: {:.4f} at epoch {}\n", key, col[best], best + 1);
    }
  }
  if (auto it = m.metadata.find("epoch"); it != m.metadata.end()) out << fmt::format("checkpoint after epoch {}\n", it->second);
  return 0;
}

}  // namespace descent::cli
