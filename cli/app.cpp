#include "app.h"

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "config.h"
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
