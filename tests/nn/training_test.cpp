// Whole-training properties of modules + losses + optimizers together.

#include <gtest/gtest.h>

#include <descent/descent.h>
#include <map>
#include <memory>

using namespace descent;

namespace {
std::shared_ptr<nn::Sequential> make_mlp(std::uint64_t seed) {
  manual_seed(seed);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 3, .out_features = 8}));
  model->push_back(std::make_shared<nn::Tanh>());
  model->push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 8, .out_features = 2}));
  return model;
}

void train_steps(nn::Module& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& y, int steps) {
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    cross_entropy(model(x), y).backward();
    optimizer.step();
  }
}

// A snapshot as a file would hold it: copies, not the live tensors.
std::map<std::string, Tensor> copy_of(const std::map<std::string, Tensor>& state) {
  std::map<std::string, Tensor> out;
  for (const auto& [key, value] : state) out[key] = value.detach().clone();
  return out;
}
}  // namespace

TEST(Training, ModuleAndOptimizerStateDictsResumeTrainingBitForBit) {
  Generator gen(11);
  const Tensor x = randn({16, 3}, gen);
  const Tensor y = randint(0, 2, {16}, gen);

  auto reference = make_mlp(5);
  optim::Adam reference_opt(reference->parameters(), {.lr = 0.01});
  train_steps(*reference, reference_opt, x, y, 20);

  auto first = make_mlp(5);
  optim::Adam first_opt(first->parameters(), {.lr = 0.01});
  train_steps(*first, first_opt, x, y, 10);
  std::map<std::string, Tensor> weights;
  for (const auto& [name, value] : first->named_parameters()) weights[name] = value.detach().clone();
  const std::map<std::string, Tensor> optimizer_state = copy_of(first_opt.state_dict());

  auto resumed = make_mlp(99);  // different initial weights: everything must come from the state
  resumed->load_state_dict(nn::StateDict(weights));
  optim::Adam resumed_opt(resumed->parameters(), {.lr = 0.5});
  resumed_opt.load_state_dict(optimizer_state);
  train_steps(*resumed, resumed_opt, x, y, 10);

  const auto expected = reference->named_parameters();
  const auto actual = resumed->named_parameters();
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(expected[i].first, actual[i].first);
    EXPECT_EQ(expected[i].second.to_vector<float>(), actual[i].second.to_vector<float>()) << expected[i].first;
  }
}

TEST(Training, LogisticRegressionSeparatesTwoGaussianBlobs) {
  // Two blobs of 200 points, centred at (-2, -2) and (2, 2) with unit variance: a line separates
  // all but a few percent of them.
  Generator gen(7);
  const std::int64_t n = 200;
  const Tensor a = sub(randn({n, 2}, gen), 2.0);
  const Tensor b = add(randn({n, 2}, gen), 2.0);
  const Tensor x = cat({a, b}, 0);
  const Tensor y = cat({zeros({n, 1}), ones({n, 1})}, 0);

  manual_seed(1);
  nn::Linear model({.in_features = 2, .out_features = 1});
  optim::SGD optimizer(model.parameters(), {.lr = 0.5});
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 200; ++step) {
    optimizer.zero_grad();
    const Tensor loss = binary_cross_entropy_with_logits(model(x), y);
    loss.backward();
    optimizer.step();
    (step == 0 ? first_loss : last_loss) = loss.item();
  }
  EXPECT_LT(last_loss, first_loss / 4);
  NoGradGuard no_grad;
  const Tensor predicted = gt(model(x), 0.0);  // logit > 0 means class 1
  const double accuracy = mean(eq(predicted, y)).item();
  EXPECT_GT(accuracy, 0.97);
  // The boundary w.x + b = 0 passes between the blobs: both weights positive, bias near 0.
  EXPECT_GT(model.weight().at({0, 0}), 0.5);
  EXPECT_GT(model.weight().at({0, 1}), 0.5);
}
