#include <gtest/gtest.h>

#include <descent/descent.h>

using namespace descent;

TEST(Smoke, AddAndBackward) {
  Tensor a = tensor({1, 2, 3}, {3}, kFloat64);
  a.requires_grad_();
  Tensor b = tensor({4, 5, 6}, {3}, kFloat64);
  Tensor y = sum(mul(a, b));
  EXPECT_DOUBLE_EQ(y.item(), 32.0);
  y.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{4, 5, 6}));
}
