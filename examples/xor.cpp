// Trains a 2-4-1 network on XOR by full-batch gradient descent, with nothing but tensors, the
// autograd and a hand-written update: the whole textbook loop in one page.
//
//   ./build/examples/xor [epochs] [learning_rate]

#include <descent/descent.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace descent;

int main(int argc, char** argv) try {
  const int epochs = argc > 1 ? std::stoi(argv[1]) : 2000;
  const double lr = argc > 2 ? std::stod(argv[2]) : 0.5;
  if (epochs <= 0 || lr <= 0) throw ValueError("usage: xor [epochs > 0] [learning_rate > 0]");

  const Tensor x = tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = tensor({0, 1, 1, 0}, {4, 1});

  // Xavier-uniform initialization from a seeded generator: the same numbers on every run.
  Generator gen(42);
  auto init = [&](std::int64_t fan_in, std::int64_t fan_out, const Shape& shape) {
    const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    Tensor w = sub(mul(rand(shape, gen), 2 * bound), bound);
    w.requires_grad_();
    return w;
  };
  Tensor w1 = init(2, 4, {2, 4}), b1 = zeros({4}), w2 = init(4, 1, {4, 1}), b2 = zeros({1});
  b1.requires_grad_();
  b2.requires_grad_();

  double loss_value = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const Tensor hidden = tanh(add(matmul(x, w1), b1));
    const Tensor out = sigmoid(add(matmul(hidden, w2), b2));
    const Tensor loss = mean(pow(sub(out, y), 2.0));  // mean squared error
    loss.backward();
    loss_value = loss.item();
    {
      NoGradGuard no_grad;  // the update itself is not part of the graph
      for (Tensor* p : {&w1, &b1, &w2, &b2}) {
        Tensor updated = sub(*p, mul(p->grad(), lr)).detach();
        updated.requires_grad_();
        *p = updated;
      }
    }
    if (epoch == 1 || epoch % (epochs / 10 > 0 ? epochs / 10 : 1) == 0) {
      std::printf("epoch %5d  loss %.6f\n", epoch, loss_value);
    }
  }

  NoGradGuard no_grad;
  const Tensor pred = sigmoid(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2));
  for (int i = 0; i < 4; ++i) {
    std::printf("%g XOR %g -> %.3f (target %g)\n", x.at({i, 0}), x.at({i, 1}), pred.at({i, 0}), y.at({i, 0}));
  }
  return loss_value < 0.01 ? EXIT_SUCCESS : EXIT_FAILURE;
} catch (const descent::Error& e) {
  std::fprintf(stderr, "xor: %s\n", e.what());
  return 2;
}
