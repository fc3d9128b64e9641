#include "app.h"

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "config.h"
#include "descend_command.h"
#include "explain_command.h"
#include "gradcheck_command.h"
#include "descent/core/error.h"
#include "descent/version.h"

namespace descent::cli {

int run(int argc, char** argv) {
  CLI::App app{"descent: train neural networks by backpropagation and gradient descent, and see what they do.", "descent"};
  app.set_version_flag("--version", std::string("descent ") + kVersion);
  app.require_subcommand(1);
  app.footer("Run 'descent COMMAND --help' for a command's options. Configuration keys: 'descent train --help-config'.");

  TrainArgs train;
  auto* train_cmd = app.add_subcommand("train", "train a model described by a TOML or JSON configuration");
  train_cmd->add_option("config", train.config, "configuration file (.toml or .json)")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("--set", train.overrides, "override a configuration key: --set training.epochs=5 (repeatable)")->take_all();
  train_cmd->add_option("--output", train.output, "the run folder (default: runs/<configuration name>, numbered when it exists)");
  train_cmd->add_flag("--resume", train.resume, "continue the run in the run folder from its last checkpoint");
  train_cmd->add_flag("--quiet,-q", train.quiet, "print only the final results");
  train_cmd->add_flag("--no-diagnostics", train.no_diagnostics,
                      "no per-layer statistics and no diagnoses (vanishing/exploding gradients, dead units, overfitting, plateaus)");
  bool help_config = false;
  train_cmd->add_flag_callback("--help-config", [&] { help_config = true; throw CLI::Success(); }, "list every configuration key and exit");

  EvalArgs eval;
  auto* eval_cmd = app.add_subcommand("eval", "evaluate a trained model on labelled data");
  eval_cmd->add_option("model", eval.model, "run folder, model.safetensors or checkpoint")->required();
  eval_cmd->add_option("data", eval.data, "CSV file or IDX images (default: the configuration's test data)");
  eval_cmd->add_option("labels", eval.labels, "IDX labels of the images");
  eval_cmd->add_option("--json", eval.json, "also write the metrics to this JSON file");

  PredictArgs predict;
  auto* predict_cmd = app.add_subcommand("predict", "write a trained model's predictions for new data as CSV");
  predict_cmd->add_option("model", predict.model, "run folder, model.safetensors or checkpoint")->required();
  predict_cmd->add_option("input", predict.input, "CSV file (the training feature columns) or IDX images")->required();
  predict_cmd->add_option("--output,-o", predict.output, "output CSV ('-': standard output)")->required();
  predict_cmd->add_option("--batch-size", predict.batch_size, "examples per forward pass");

  InfoArgs info;
  auto* info_cmd = app.add_subcommand("info", "describe a checkpoint or model: layers, shapes, parameters, training history");
  info_cmd->add_option("model", info.model, "run folder, model.safetensors or checkpoint")->required();

  ExplainArgs explain;
  auto* explain_cmd = app.add_subcommand("explain", "narrate one forward pass, backward pass and gradient-descent step of a small network, with every number");
  explain_cmd->add_option("--layers", explain.layers, "layer sizes, inputs first, e.g. 2,3,1")->capture_default_str();
  explain_cmd->add_option("--activation", explain.activation, "tanh, sigmoid, relu, leaky_relu or identity")->capture_default_str();
  explain_cmd->add_option("--output-activation", explain.output_activation, "the output layer's activation (default: --activation)");
  explain_cmd->add_flag("--bias", explain.bias, "give every neuron a bias");
  explain_cmd->add_option("--input", explain.input, "the input, e.g. 1,0.5 (default: all ones)");
  explain_cmd->add_option("--target", explain.target, "the target, one value per output (default: all ones)");
  explain_cmd->add_option("--loss", explain.loss, "mse (PyTorch's mse_loss: mean of (y - t)^2, no 1/2) or bce")->capture_default_str();
  explain_cmd->add_option("--lr", explain.lr, "SGD's learning rate")->capture_default_str();
  explain_cmd->add_option("--weights", explain.weights, "every weight, layer by layer, each neuron's incoming weights in turn");
  explain_cmd->add_option("--biases", explain.biases, "every bias, layer by layer (with --bias; default 0)");
  explain_cmd->add_option("--seed", explain.seed, "without --weights: draw the weights as PyTorch's nn.Linear does, from this seed");
  explain_cmd->add_option("--html", explain.html, "also write an HTML page with the network drawn");

  DescendArgs descend;
  auto* descend_cmd = app.add_subcommand("descend", "run optimizers on a 2-D cost surface and draw their paths on its contour plot");
  descend_cmd->add_option("--surface", descend.surface, "built-in surface: bowl, valley (default), rosenbrock, himmelblau, two_minima");
  descend_cmd->add_option("--expr", descend.expr, "a formula in x and y instead, e.g. \"x^2 + 10*y^2\"");
  descend_cmd->add_option("--optimizer", descend.optimizers, "\"NAME key=value ...\", e.g. \"adam lr=0.1\" (repeatable; default: the surface's)")->take_all();
  descend_cmd->add_option("--start", descend.start, "start point x,y");
  descend_cmd->add_option("--steps", descend.steps, "steps per optimizer");
  descend_cmd->add_option("--range", descend.range, "plotted window xmin,xmax,ymin,ymax");
  descend_cmd->add_option("--output,-o", descend.output, "the HTML page to write (default: descend.html)");

  GradcheckArgs gradcheck;
  auto* gradcheck_cmd = app.add_subcommand("gradcheck", "check a configured model's backpropagated gradients against finite differences, in float64");
  gradcheck_cmd->add_option("config", gradcheck.config, "TOML configuration, as for train")->required();
  gradcheck_cmd->add_option("--set", gradcheck.overrides, "override a configuration key: key=value (repeatable)")->take_all();
  gradcheck_cmd->add_option("--batch", gradcheck.batch, "the first N training examples")->capture_default_str();
  gradcheck_cmd->add_option("--eps", gradcheck.eps, "finite-difference step")->capture_default_str();
  gradcheck_cmd->add_option("--atol", gradcheck.atol, "absolute tolerance")->capture_default_str();
  gradcheck_cmd->add_option("--rtol", gradcheck.rtol, "relative tolerance")->capture_default_str();
  gradcheck_cmd->add_option("--elements", gradcheck.elements, "at most this many elements per tensor, sampled")->capture_default_str();
  gradcheck_cmd->add_option("--seed", gradcheck.seed, "as --set seed=S; also picks the sampled elements");
  gradcheck_cmd->add_flag("--eval", gradcheck.eval, "evaluation mode: dropout off, batch norm's running statistics");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    if (help_config) {
      std::cout << "Configuration keys (TOML sections in brackets; defaults after '='):\n" << describe_schema();
      return 0;
    }
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // prints the message and the usage; 0 for --help, 2 otherwise
  }

  try {
    if (train_cmd->parsed()) return train_command(train, std::cout, std::cerr);
    if (eval_cmd->parsed()) return eval_command(eval, std::cout, std::cerr);
    if (predict_cmd->parsed()) return predict_command(predict, std::cout, std::cerr);
    if (info_cmd->parsed()) return info_command(info, std::cout, std::cerr);
    if (explain_cmd->parsed()) return explain_command(explain, std::cout, std::cerr);
    if (descend_cmd->parsed()) return descend_command(descend, std::cout, std::cerr);
    if (gradcheck_cmd->parsed()) return gradcheck_command(gradcheck, std::cout, std::cerr);
  } catch (const descent::Error& e) {
    std::cout.flush();
    std::cerr << "descent: error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cout.flush();
    std::cerr << "descent: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "descent: internal error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace descent::cli
