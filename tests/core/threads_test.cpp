// The one thread setting: validation, and results that do not depend on the number of threads.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <descent/descent.h>

using namespace descent;

namespace {

// Restores the thread setting when a test ends, whatever happens in it.
class ThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = get_num_threads(); }
  void TearDown() override { set_num_threads(previous_); }
  int previous_ = 1;
};

TEST_F(ThreadsTest, DefaultIsPositive) { EXPECT_GE(previous_, 1); }

TEST_F(ThreadsTest, SetAndGet) {
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  set_num_threads(2);
  EXPECT_EQ(get_num_threads(), 2);
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
}

TEST_F(ThreadsTest, BlasThreadingIsTheBuildThatWasLinked) {
  const std::string threading(blas_threading());
  EXPECT_TRUE(threading == "openmp" || threading == "pthreads" || threading == "sequential") << threading;
#ifdef DESCENT_EXPECT_BLAS_THREADING
  // The build linked OpenBLAS's OpenMP build by its path: the program must load that one, not the
  // library the system's libopenblas.so.0 alternative names.
  EXPECT_EQ(threading, DESCENT_EXPECT_BLAS_THREADING);
#endif
}

TEST_F(ThreadsTest, InvalidValuesThrowAndKeepTheSetting) {
  set_num_threads(1);
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_threads(-1), ValueError);
  EXPECT_EQ(get_num_threads(), 1);
  try {
    set_num_threads(0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("set_num_threads"), std::string::npos) << e.what();
  }
}

// Runs `f` with n threads and returns its result's elements.
template <typename F>
std::vector<double> with_threads(int n, F&& f) {
  set_num_threads(n);
  return f().template to_vector<double>();
}

TEST_F(ThreadsTest, ElementwiseIdenticalWithOneAndTwoThreads) {
  Generator g(1);
  const Tensor a = randn({512, 1031}, g);  // well above the parallel grain
  const Tensor b = randn({1031}, g);
  auto op = [&] { return add(mul(exp(mul(a, 0.5)), b), tanh(a)); };
  const auto one = with_threads(1, op);
  const auto two = with_threads(2, op);
  EXPECT_EQ(one, two);
  // Non-contiguous input takes the strided path.
  auto strided = [&] { return sqrt(abs(a.t())); };
  EXPECT_EQ(with_threads(1, strided), with_threads(2, strided));
}

TEST_F(ThreadsTest, ReductionIdenticalWithOneAndTwoThreads) {
  Generator g(2);
  const Tensor x = randn({300, 700}, g);  // float32: any change of summation order would show
  const Tensor x64 = randn({64, 50, 40}, g, kFloat64);
  auto all = [&] { return sum(x); };
  auto rows = [&] { return sum(x, {1}); };
  auto cols = [&] { return mean(x, {0}); };
  auto middle = [&] { return amax(x64, {1}); };
  auto scattered = [&] { return sum(x64, {0, 2}, true); };
  auto variance = [&] { return var(x, {1}); };
  EXPECT_EQ(with_threads(1, all), with_threads(2, all));
  EXPECT_EQ(with_threads(1, rows), with_threads(2, rows));
  EXPECT_EQ(with_threads(1, cols), with_threads(2, cols));
  EXPECT_EQ(with_threads(1, middle), with_threads(2, middle));
  EXPECT_EQ(with_threads(1, scattered), with_threads(2, scattered));
  EXPECT_EQ(with_threads(1, variance), with_threads(2, variance));
}

// OpenBLAS's threaded GEMM may sum in another order than its one-thread GEMM (measured: some
// elements differ in the last bits), so results are reproducible for a given thread count, and
// equal up to rounding across thread counts.
TEST_F(ThreadsTest, GemmAgreesWithOneAndTwoThreadsAndRepeatsExactly) {
  Generator g(4);
  const Tensor a = randn({512, 300}, g);  // big enough for OpenBLAS to use both threads
  const Tensor b = randn({300, 400}, g);
  auto product = [&] { return matmul(a, b); };
  const auto one = with_threads(1, product);
  const auto two = with_threads(2, product);
  ASSERT_EQ(one.size(), two.size());
  for (std::size_t i = 0; i < one.size(); ++i) ASSERT_NEAR(one[i], two[i], 1e-4 * (1 + std::abs(one[i]))) << i;
  EXPECT_EQ(with_threads(2, product), two);
  EXPECT_EQ(with_threads(1, product), one);
}

TEST_F(ThreadsTest, BackwardIdenticalWithOneAndTwoThreads) {
  Generator g(3);
  const Tensor w = randn({256, 300}, g, kFloat64);
  auto grad = [&] {
    Tensor x = w.detach();
    x.requires_grad_();
    sum(mul(tanh(x), x)).backward();
    return x.grad();
  };
  EXPECT_EQ(with_threads(1, grad), with_threads(2, grad));
}

}  // namespace
