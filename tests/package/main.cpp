// Uses the installed package: one forward and backward pass through the umbrella header.
#include <descent/descent.h>

#include <cstdio>

int main() {
  descent::Tensor w = descent::tensor({1, 2, 3, 4}, {2, 2});
  w.requires_grad_();
  const descent::Tensor loss = descent::sum(descent::tanh(descent::matmul(w, w)));
  loss.backward();
  std::printf("descent %s: loss %.6f, grad[0][0] %.6f\n", descent::kVersion, loss.item(), w.grad().at({0, 0}));
  return w.grad().shape() == descent::Shape{2, 2} ? 0 : 1;
}
