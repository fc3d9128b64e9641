// descent predict MODEL INPUT -o OUTPUT.csv: one row per example: the predicted class and each
// class's probability (or score), or the predicted values for regression.
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "data_source.h"
#include "descent/autograd/grad_mode.h"
#include "descent/core/error.h"
#include "descent/data/csv.h"
#include "descent/io/atomic_file.h"
#include "descent/ops/activation.h"
#include "descent/optim/optimizers.h"
#include "saved_model.h"

namespace descent::cli {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

int predict_command(const PredictArgs& args, std::ostream& out, std::ostream&) {
  if (args.batch_size <= 0) throw ValueError(fmt::format("--batch-size must be > 0, got {}", args.batch_size));
  LoadedModel m = load_model(args.model);
  const data::TensorDataset dataset = load_for_model(m.format, args.input, std::nullopt, false);
  optim::SGD unused(m.built.model->parameters(), {.lr = 0.0});
  train::Trainer trainer(*m.built.model, unused, make_loss(m.config, m.built.loss),
                         {.task = m.format.spec.task, .num_classes = m.format.spec.num_classes});
  Tensor outputs = trainer.predict(dataset.inputs(), args.batch_size).to(kFloat64).contiguous();
  const std::int64_t n = outputs.size(0);
  const std::int64_t k = outputs.numel() / std::max<std::int64_t>(n, 1);

  std::string csv;
  const bool classification = m.format.spec.task == data::Task::Classification;
  const auto& classes = m.format.classes;
  if (classification) {
    // Probabilities where the loss defines them (softmax for cross-entropy, sigmoid for BCE), scores otherwise.
    const bool softmax_probs = m.built.loss == LossKind::CrossEntropy;
    const bool sigmoid_probs = m.built.loss == LossKind::BinaryCrossEntropy;
    Tensor values = outputs;
    if (softmax_probs) values = softmax(outputs, 1).contiguous();
    if (sigmoid_probs) values = sigmoid(outputs).contiguous();
    const double* v = values.data_ptr<double>();
    const std::string prefix = softmax_probs || sigmoid_probs ? "probability_" : "score_";
    csv += "prediction";
    if (k == 1) csv += "," + csv_field(prefix + classes[1]);
    else for (const auto& c : classes) csv += "," + csv_field(prefix + c);
    csv += "\n";
    for (std::int64_t i = 0; i < n; ++i) {
      const double* row = v + i * k;
      std::size_t best = 0;
      if (k == 1) best = (sigmoid_probs ? row[0] > 0.5 : row[0] > 0) ? 1 : 0;
      else for (std::int64_t j = 1; j < k; ++j) if (row[j] > row[best]) best = static_cast<std::size_t>(j);
      csv += csv_field(classes[best]);
      for (std::int64_t j = 0; j < k; ++j) csv += fmt::format(",{:.6g}", row[j]);
      csv += "\n";
    }
  } else {
    const double* v = outputs.data_ptr<double>();
    for (std::size_t j = 0; j < m.format.target_names.size() || (m.format.target_names.empty() && j < static_cast<std::size_t>(k)); ++j)
      csv += (j ? "," : "") + csv_field(m.format.target_names.empty() ? fmt::format("target_{}", j) : m.format.target_names[j]);
    csv += "\n";
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = 0; j < k; ++j) csv += fmt::format("{}{:.9g}", j ? "," : "", v[i * k + j]);
      csv += "\n";
    }
  }
  if (args.output == "-") {
    out << csv;
  } else {
    io::write_file_atomically(args.output, csv);
    out << fmt::format("{} predictions written to {}\n", n, args.output);
  }
  return 0;
}

}  // namespace descent::cli
