#pragma once
// report.html: one self-contained page (inline CSS and SVG, no script, no external resource) that
// shows a run: what was trained on what, the loss and the metrics per epoch for training and
// validation, the learning rate, the loss of every step, the confusion matrix and per-class scores
// of the evaluation, the model and the configuration; with diagnostics, the problems found and the
// gradient flow (per-layer gradient norms, update ratios and dead units per epoch).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "descent/train/diagnostics.h"
#include "descent/train/history.h"
#include "descent/train/trainer.h"

namespace descent::cli {

struct ReportData {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;  // label -> value rows of the summary
  train::History history;
  std::optional<train::Evaluation> evaluation;  // test (or validation) results
  std::string evaluation_name;                  // "test" or "validation"
  std::vector<std::string> classes;
  std::string model_summary;
  std::string config_json;
  /// With diagnostics on: the problems found (the per-layer statistics are in the history).
  bool diagnostics = false;
  std::vector<train::Diagnosis> diagnoses;
};

std::string render_report(const ReportData& data);

}  // namespace descent::cli
