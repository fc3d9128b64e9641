#pragma once
// Builds the network, and the loss that goes with it, from a configuration and the shape of the data.
// The user writes layers without input sizes ("linear 256", "relu", "dropout 0.2", "linear"): each
// layer's input size is inferred from the previous layer's output, starting from the shape of one
// example, and a final "linear" without a size gets the size the data needs (classes or targets).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "descent/core/shape.h"
#include "descent/data/csv.h"
#include "descent/nn/sequential.h"
#include "descent/train/trainer.h"

namespace descent::cli {

/// What the model must fit: one example's shape, and what it predicts.
struct DataSpec {
  Shape example_shape;             // e.g. [1, 28, 28] or [13]
  data::Task task = data::Task::Classification;
  std::int64_t num_classes = 0;    // classification
  std::int64_t num_targets = 0;    // regression
};

enum class LossKind { CrossEntropy, Mse, L1, Huber, SmoothL1, BinaryCrossEntropy, Hinge, MultiMargin };

struct BuiltModel {
  std::shared_ptr<nn::Sequential> model;
  std::vector<std::string> layers;  // the layer list actually built (presets expanded), for the report
  LossKind loss = LossKind::CrossEntropy;
  std::int64_t outputs = 0;         // per example
};

/// Builds the model (initialized from the default generator: seed it first) and picks the loss.
/// ValueError naming the key and layer for an unknown layer, a bad argument, a size that does not
/// fit ("model.layers[3] 'linear 5': the model ends with 5 outputs per example, the data needs 10
/// (10 classes)"), or a loss that does not suit the task.
BuiltModel build_model(const Config& config, const DataSpec& data);

/// The loss function for the trainer (converts targets as the loss needs: 0/1 labels to floats for
/// BCE, to -1/+1 for hinge).
train::LossFunction make_loss(const Config& config, LossKind kind);

/// make_loss plus the configured L1/L2 penalties (training.l1 * sum|w| + training.l2 / 2 * sum w^2)
/// on the model's weights (the parameters named "...weight"; biases and norms' shifts are not
/// penalized): the loss `descent train` minimizes. ValueError for a negative coefficient.
train::LossFunction make_training_loss(const Config& config, LossKind kind, nn::Module& model);

std::string to_string(LossKind kind);

}  // namespace descent::cli
