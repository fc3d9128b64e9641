// Trains a 2-4-1 network on XOR by full-batch gradient descent: the whole textbook loop (forward,
// loss, backward through the recorded graph, optimizer step) in one page.
//
//   ./build/examples/xor [epochs] [learning_rate]

#include <descent/descent.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace descent;

int main(int argc, char** argv) try {
  const int epochs = argc > 1 ? std::stoi(argv[1]) : 2000;
  const double lr = argc > 2 ? std::stod(argv[2]) : 0.5;
  if (epochs <= 0 || lr <= 0) throw ValueError("usage: xor [epochs > 0] [learning_rate > 0]");

  const Tensor x = tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = tensor({0, 1, 1, 0}, {4, 1});

  manual_seed(42);  // layers draw their initial weights from the default generator
  nn::Sequential model;
  auto hidden = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 2, .out_features = 4});
  auto output = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 4, .out_features = 1});
  nn::init::xavier_uniform_(hidden->weight(), nn::init::calculate_gain("tanh"));  // Glorot for tanh
  nn::init::xavier_uniform_(output->weight(), nn::init::calculate_gain("sigmoid"));
  model.push_back(hidden);
  model.push_back(std::make_shared<nn::Tanh>());
  model.push_back(output);
  model.push_back(std::make_shared<nn::Sigmoid>());
  std::printf("%s\n", model.summary({4, 2}).c_str());

  optim::SGD optimizer(model.parameters(), {.lr = lr, .momentum = 0.9});
  double loss_value = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    optimizer.zero_grad();
    const Tensor loss = mse_loss(model(x), y);  // forward: the ops record the graph
    loss.backward();                            // backward: the chain rule through that graph
    optimizer.step();                           // w <- w - lr * v, v <- momentum * v + dL/dw
    loss_value = loss.item();
    if (epoch == 1 || epoch % std::max(epochs / 10, 1) == 0) std::printf("epoch %5d  loss %.6f\n", epoch, loss_value);
  }

  NoGradGuard no_grad;
  model.eval();
  const Tensor pred = model(x);
  for (int i = 0; i < 4; ++i) {
    std::printf("%g XOR %g -> %.3f (target %g)\n", x.at({i, 0}), x.at({i, 1}), pred.at({i, 0}), y.at({i, 0}));
  }
  return loss_value < 0.01 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const descent::Error& e) {
  std::fprintf(stderr, "xor: %s\n", e.what());
  return 2;
}
