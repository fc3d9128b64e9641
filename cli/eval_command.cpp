// descent eval MODEL [DATA [LABELS]]: the loss and metrics of a trained model on labelled data (by
// default the test data its configuration names), with the confusion matrix and per-class scores.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "data_source.h"
#include "descent/core/error.h"
#include "descent/io/atomic_file.h"
#include "descent/optim/optimizers.h"
#include "saved_model.h"

namespace descent::cli {

int eval_command(const EvalArgs& args, std::ostream& out, std::ostream&) {
  LoadedModel m = load_model(args.model);
  std::optional<std::filesystem::path> data = args.data, labels = args.labels;
  if (!data) {
    if (m.format.format == "idx" && m.config.has("data.test_images")) {
      data = m.config.string("data.test_images");
      labels = m.config.string("data.test_labels");
    } else if (m.format.format == "csv" && m.config.has("data.test")) {
      data = m.config.string("data.test");
    } else {
      throw ValueError(fmt::format("{}: its configuration names no test data: give the data to evaluate on", m.path.string()));
    }
  }
  if (m.format.format == "idx" && !labels)
    throw ValueError(fmt::format("{}: evaluating on IDX images needs their labels file too", data->string()));
  const data::TensorDataset dataset = load_for_model(m.format, *data, labels, true);

  // The trainer evaluates; its optimizer is never stepped.
  optim::SGD unused(m.built.model->parameters(), {.lr = 0.0});
  train::Trainer trainer(*m.built.model, unused, make_loss(m.config, m.built.loss),
                         {.task = m.format.spec.task, .num_classes = m.format.spec.num_classes, .top_k = m.config.integers("training.top_k")});
  const train::Evaluation e = trainer.evaluate(data::DataLoader(dataset, {.batch_size = 1024}));

  out << fmt::format("{} on {} ({} examples)\n", m.path.string(), data->string(), e.count);
  for (const auto& [k, v] : e.scalars()) out << fmt::format("  {:<16} {:.4f}\n", k, v);
  if (e.classification) {
    const auto& c = *e.classification;
    const auto p = c.precision(), r = c.recall(), f = c.f1();
    out << fmt::format("\n  {:<20} {:>9} {:>9} {:>9} {:>8}\n", "class", "precision", "recall", "f1", "support");
    for (std::size_t i = 0; i < p.size(); ++i) {
      std::int64_t support = 0;
      for (auto v : c.confusion_matrix()[i]) support += v;
      out << fmt::format("  {:<20} {:>9.4f} {:>9.4f} {:>9.4f} {:>8}\n", i < m.format.classes.size() ? m.format.classes[i] : std::to_string(i),
                         p[i], r[i], f[i], support);
    }
    out << "\n  confusion matrix (rows: true class, columns: predicted)\n";
    for (const auto& row : c.confusion_matrix()) {
      out << "  ";
      for (auto v : row) out << fmt::format("{:>6}", v);
      out << "\n";
    }
  }
  if (args.json) {
    nlohmann::json j = e.scalars();
    j["count"] = e.count;
    j["data"] = data->string();
    if (e.classification) {
      j["confusion_matrix"] = e.classification->confusion_matrix();
      j["precision"] = e.classification->precision();
      j["recall"] = e.classification->recall();
      j["f1"] = e.classification->f1();
      j["classes"] = m.format.classes;
    }
    io::write_file_atomically(*args.json, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace descent::cli
