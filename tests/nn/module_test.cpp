// Module and Sequential: registration and names, recursion, modes, state dicts, dtype conversion,
// printing, summary and hooks (descent/nn/module.h, descent/nn/sequential.h).

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "ops/op_check.h"

using namespace descent;
using namespace descent::nn;

namespace {

std::vector<std::string> keys_of(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& [key, t] : named) out.push_back(key);
  return out;
}

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
}

// A user module with a submodule, a parameter and a buffer of its own.
class Encoder : public Module {
 public:
  Encoder() {
    layers_ = register_module("layers", std::make_shared<Sequential>(Linear({.in_features = 3, .out_features = 4}),
                                                                      Tanh(), Linear({.in_features = 4, .out_features = 2})));
    scale_ = register_parameter("scale", ones({2}));
    steps_ = register_buffer("steps", zeros({1}));
  }
  Tensor forward(const Tensor& x) override { return mul((*layers_)(x), scale_); }

  std::shared_ptr<Sequential> layers_;
  Tensor scale_, steps_;
};

class AutoEncoder : public Module {
 public:
  AutoEncoder() {
    encoder = register_module("encoder", std::make_shared<Encoder>());
    decoder = register_module("decoder", std::make_shared<Linear>(LinearOptions{.in_features = 2, .out_features = 3}));
  }
  Tensor forward(const Tensor& x) override { return (*decoder)((*encoder)(x)); }
  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<Linear> decoder;
};

Sequential small_mlp() {
  return Sequential(Linear({.in_features = 784, .out_features = 128}), ReLU(), Dropout({.p = 0.2}),
                    Linear({.in_features = 128, .out_features = 10}));
}

}  // namespace

// --- names ----------------------------------------------------------------------------------------

TEST(Module, NamedParametersOfNestedSequential) {
  Sequential net(Linear({.in_features = 2, .out_features = 3}), ReLU(),
                 std::make_shared<Sequential>(Linear({.in_features = 3, .out_features = 3}), Tanh(),
                                              Linear({.in_features = 3, .out_features = 1, .bias = false})),
                 BatchNorm1d({.num_features = 1}));
  EXPECT_EQ(keys_of(net.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.2.weight", "3.weight",
                                      "3.bias"}));
  EXPECT_EQ(keys_of(net.named_buffers()),
            (std::vector<std::string>{"3.running_mean", "3.running_var", "3.num_batches_tracked"}));
  EXPECT_EQ(net.parameters().size(), 7u);
  for (const Tensor& p : net.parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  // Without recursion: a Sequential has no parameters of its own.
  EXPECT_TRUE(net.named_parameters(false).empty());
  EXPECT_EQ(keys_of(net[0].named_parameters(false)), (std::vector<std::string>{"weight", "bias"}));
  // The parameters are the layers' own tensors, not copies.
  EXPECT_TRUE(net.parameters()[0].is_same(net.at<Linear>(0).weight()));
}

TEST(Module, NamedParametersOfUserModules) {
  AutoEncoder model;
  EXPECT_EQ(keys_of(model.named_parameters()),
            (std::vector<std::string>{"encoder.scale", "encoder.layers.0.weight", "encoder.layers.0.bias",
                                      "encoder.layers.2.weight", "encoder.layers.2.bias", "decoder.weight",
                                      "decoder.bias"}));
  EXPECT_EQ(keys_of(model.named_buffers()), (std::vector<std::string>{"encoder.steps"}));
  // state_dict: each module's parameters, then its buffers, then its children (PyTorch's order).
  EXPECT_EQ(model.state_dict().keys(),
            (std::vector<std::string>{"encoder.scale", "encoder.steps", "encoder.layers.0.weight",
                                      "encoder.layers.0.bias", "encoder.layers.2.weight", "encoder.layers.2.bias",
                                      "decoder.weight", "decoder.bias"}));
  std::vector<std::string> modules;
  for (const auto& [name, m] : model.named_modules()) modules.push_back(name + ":" + m->type_name());
  EXPECT_EQ(modules, (std::vector<std::string>{":AutoEncoder", "encoder:Encoder", "encoder.layers:Sequential",
                                               "encoder.layers.0:Linear", "encoder.layers.1:Tanh",
                                               "encoder.layers.2:Linear", "decoder:Linear"}));
  EXPECT_EQ(model.children().size(), 2u);
}

TEST(Module, SharedParametersAreListedOnce) {
  auto shared = std::make_shared<Linear>(LinearOptions{.in_features = 2, .out_features = 2});
  Sequential net(shared, Tanh(), shared);
  EXPECT_EQ(keys_of(net.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  // The state dict keeps every key, as PyTorch's does.
  EXPECT_EQ(net.state_dict().keys(), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
}

TEST(Module, RegistrationErrors) {
  struct M : Module {
    M() {
      register_parameter("w", zeros({2}));
      register_buffer("b", zeros({2}));
    }
  } m;
  EXPECT_THROW_WITH(m.register_parameter("w", zeros({1})), ValueError, "\"w\"", "already");
  EXPECT_THROW_WITH(m.register_buffer("w", zeros({1})), ValueError, "\"w\"", "already");
  EXPECT_THROW_WITH(m.register_module("b", std::make_shared<ReLU>()), ValueError, "\"b\"", "already");
  EXPECT_THROW_WITH(m.register_parameter("a.b", zeros({1})), ValueError, "a.b", "'.'");
  EXPECT_THROW_WITH(m.register_parameter("", zeros({1})), ValueError, "empty");
  EXPECT_THROW_WITH(m.register_module("c", std::shared_ptr<Module>()), ValueError, "\"c\"", "null");
  EXPECT_THROW_WITH(m.register_parameter("i", tensor_int64({1}, {1})), DTypeError, "\"i\"", "int64");
  Tensor x = ones({2});
  x.requires_grad_();
  EXPECT_THROW_WITH(m.register_parameter("y", mul(x, 2.0)), ValueError, "\"y\"", "leaf");
  // A frozen parameter: registered without requires_grad.
  const Tensor frozen = m.register_parameter("frozen", zeros({3}), false);
  EXPECT_FALSE(frozen.requires_grad());
  EXPECT_EQ(m.parameters().size(), 2u);
  // An undefined parameter is registered but skipped (PyTorch's register_parameter(name, None)).
  m.register_parameter("absent", Tensor());
  EXPECT_EQ(m.parameters().size(), 2u);
  EXPECT_FALSE(m.state_dict().contains("absent"));
}

TEST(Module, BaseForwardThrows) {
  Module m;
  EXPECT_THROW_WITH(m(zeros({1})), ValueError, "Module", "forward");
}

// --- modes and gradients --------------------------------------------------------------------------

TEST(Module, TrainAndEvalAreRecursive) {
  AutoEncoder model;
  EXPECT_TRUE(model.is_training());
  model.eval();
  for (const auto& [name, m] : model.named_modules()) EXPECT_FALSE(m->is_training()) << name;
  model.encoder->train();
  EXPECT_FALSE(model.is_training());
  EXPECT_TRUE(model.encoder->layers_->at<Linear>(0).is_training());
  EXPECT_FALSE(model.decoder->is_training());
  EXPECT_EQ(&model.train(true), &model);
  for (const auto& [name, m] : model.named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Module, ZeroGrad) {
  Sequential net(Linear({.in_features = 3, .out_features = 2}), Tanh());
  sum(net(ones({4, 3}))).backward();
  for (const Tensor& p : net.parameters()) ASSERT_TRUE(p.grad().defined());
  const Tensor grad_before = net.parameters()[0].grad();
  net.zero_grad(false);
  for (const Tensor& p : net.parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().to_vector<double>(), std::vector<double>(p.numel(), 0.0));
  }
  EXPECT_TRUE(net.parameters()[0].grad().is_same(grad_before)) << "zeroed in place";
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

// --- state dicts ----------------------------------------------------------------------------------

TEST(Module, StateDictRoundTrip) {
  manual_seed(1);
  Sequential a(Linear({.in_features = 3, .out_features = 4}), BatchNorm1d({.num_features = 4}), ReLU(),
               Linear({.in_features = 4, .out_features = 2}));
  manual_seed(2);
  Sequential b(Linear({.in_features = 3, .out_features = 4}), BatchNorm1d({.num_features = 4}), ReLU(),
               Linear({.in_features = 4, .out_features = 2}));
  // Running statistics that differ from the initial ones.
  Generator g(3);
  a(randn({8, 3}, g));
  a.eval();
  b.eval();
  const Tensor x = randn({5, 3}, g);
  ASSERT_FALSE(same_values(a(x), b(x)));

  const Tensor b_weight = b.at<Linear>(0).weight();
  const StateDict state = a.state_dict();
  EXPECT_EQ(state.keys(), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                                    "1.running_var", "1.num_batches_tracked", "3.weight", "3.bias"}));
  for (const auto& [key, t] : state) EXPECT_FALSE(t.requires_grad()) << key;
  b.load_state_dict(state);
  EXPECT_TRUE(same_values(a(x), b(x)));
  EXPECT_EQ(b.at<BatchNorm1d>(1).num_batches_tracked().item(), 1.0);
  // Copied in place: b keeps its own tensors (same handles), and they do not alias a's.
  EXPECT_TRUE(b.at<Linear>(0).weight().is_same(b_weight));
  EXPECT_TRUE(b_weight.requires_grad());
  EXPECT_TRUE(b_weight.is_leaf());
  init::zeros_(a.at<Linear>(0).weight());
  EXPECT_FALSE(same_values(a(x), b(x)));

  // state_dict's tensors share storage with the module (PyTorch's detach semantics).
  const StateDict live = b.state_dict();
  init::ones_(b.at<Linear>(3).bias());
  EXPECT_EQ(live.at("3.bias").to_vector<double>(), (std::vector<double>{1.0, 1.0}));
}

TEST(Module, LoadStateDictConvertsDTypeAndAcceptsMaps) {
  Linear fc({.in_features = 2, .out_features = 2});
  std::map<std::string, Tensor> map{{"weight", tensor({1, 2, 3, 4}, {2, 2}, kFloat64)},
                                    {"bias", tensor({5, 6}, {2}, kFloat64)}};
  fc.load_state_dict(StateDict(map));
  EXPECT_EQ(fc.weight().dtype(), kFloat32);
  EXPECT_EQ(fc.weight().to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(fc.bias().to_vector<double>(), (std::vector<double>{5, 6}));
}

TEST(Module, LoadStateDictErrorsNameEveryKey) {
  Sequential net(Linear({.in_features = 3, .out_features = 4}), ReLU(), Linear({.in_features = 4, .out_features = 2}));
  const std::vector<double> before = net.at<Linear>(0).weight().to_vector<double>();
  StateDict state = net.state_dict();
  // Missing.
  {
    StateDict s = state;
    s.erase("2.bias");
    s.erase("0.weight");
    EXPECT_THROW_WITH(net.load_state_dict(s), ValueError, "Sequential", "Missing", "\"0.weight\"", "\"2.bias\"");
  }
  // Unexpected.
  {
    StateDict s = state;
    s.insert("3.weight", zeros({2, 2}));
    EXPECT_THROW_WITH(net.load_state_dict(s), ValueError, "Unexpected", "\"3.weight\"");
  }
  // Wrong shape.
  {
    StateDict s = state;
    s.insert("2.weight", zeros({3, 4}));
    EXPECT_THROW_WITH(net.load_state_dict(s), ValueError, "size mismatch for 2.weight", "[3, 4]", "[2, 4]");
  }
  // All three at once, in one message; and nothing was copied.
  {
    StateDict s;
    s.insert("0.weight", zeros({4, 3}));
    s.insert("0.bias", zeros({5}));
    s.insert("2.weight", zeros({2, 4}));
    s.insert("extra", zeros({1}));
    EXPECT_THROW_WITH(net.load_state_dict(s), ValueError, "Missing key(s) in state_dict: \"2.bias\"",
                      "Unexpected key(s) in state_dict: \"extra\"", "size mismatch for 0.bias", "[5]", "[4]");
    EXPECT_EQ(net.at<Linear>(0).weight().to_vector<double>(), before) << "a failed load must copy nothing";
    // Not strict: missing and unexpected keys are allowed, shapes are still checked.
    EXPECT_THROW_WITH(net.load_state_dict(s, false), ValueError, "size mismatch for 0.bias");
    s.erase("0.bias");
    net.load_state_dict(s, false);
    EXPECT_EQ(net.at<Linear>(0).weight().to_vector<double>(), std::vector<double>(12, 0.0));
  }
}

TEST(StateDict, OrderedMap) {
  StateDict s{{"b", zeros({1})}, {"a", ones({2})}};
  EXPECT_EQ(s.keys(), (std::vector<std::string>{"b", "a"}));
  s.insert("b", ones({3}));  // replaced in place
  EXPECT_EQ(s.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(s.at("b").numel(), 3);
  EXPECT_TRUE(s.erase("b"));
  EXPECT_FALSE(s.erase("b"));
  EXPECT_EQ(s.at("a").numel(), 2);
  EXPECT_EQ(s.find("b"), nullptr);
  EXPECT_THROW_WITH(s.at("zz"), IndexError, "\"zz\"");
}

// --- dtype ------------------------------------------------------------------------------------------

TEST(Module, ToConvertsInPlace) {
  Sequential net(Linear({.in_features = 3, .out_features = 4}), BatchNorm1d({.num_features = 4}));
  const Tensor w = net.at<Linear>(0).weight();
  const std::vector<double> values = w.to_vector<double>();
  sum(net(ones({2, 3}))).backward();
  EXPECT_EQ(&net.to(kFloat64), &net);
  EXPECT_TRUE(net.at<Linear>(0).weight().is_same(w)) << "the same handle, converted in place";
  EXPECT_EQ(w.dtype(), kFloat64);
  EXPECT_EQ(w.to_vector<double>(), values);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(w.grad().dtype(), kFloat64);
  for (const auto& [key, t] : net.state_dict()) {
    EXPECT_EQ(t.dtype(), key == "1.num_batches_tracked" ? kInt64 : kFloat64) << key;
  }
  // Forward and backward in float64.
  net.zero_grad();
  const Tensor y = net(ones({2, 3}, kFloat64));
  EXPECT_EQ(y.dtype(), kFloat64);
  sum(y).backward();
  EXPECT_EQ(w.grad().dtype(), kFloat64);
  EXPECT_THROW_WITH(net(ones({2, 3}, kFloat32)), DTypeError, "Linear(in_features=3", "float32", "float64");
  EXPECT_THROW_WITH(net.to(kInt64), DTypeError, "int64");
}

// --- printing ---------------------------------------------------------------------------------------

TEST(Module, PrettyPrint) {
  Sequential net(Flatten(), Linear({.in_features = 784, .out_features = 128}), ReLU(), Dropout({.p = 0.2}),
                 std::make_shared<Sequential>(Linear({.in_features = 128, .out_features = 64, .bias = false}),
                                              BatchNorm1d({.num_features = 64}), GELU({.approximate = "tanh"})),
                 LayerNorm({.normalized_shape = {64}}), LeakyReLU(), PReLU({.num_parameters = 64}), ELU(),
                 Softmax({.dim = 1}), LogSoftmax({.dim = -1}), Sigmoid(), Tanh(), Identity());
  EXPECT_EQ(net.to_string(),
            "Sequential(\n"
            "  (0): Flatten(start_dim=1, end_dim=-1)\n"
            "  (1): Linear(in_features=784, out_features=128, bias=true)\n"
            "  (2): ReLU()\n"
            "  (3): Dropout(p=0.2)\n"
            "  (4): Sequential(\n"
            "    (0): Linear(in_features=128, out_features=64, bias=false)\n"
            "    (1): BatchNorm1d(64, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)\n"
            "    (2): GELU(approximate='tanh')\n"
            "  )\n"
            "  (5): LayerNorm([64], eps=1e-05, elementwise_affine=true)\n"
            "  (6): LeakyReLU(negative_slope=0.01)\n"
            "  (7): PReLU(num_parameters=64)\n"
            "  (8): ELU(alpha=1.0)\n"
            "  (9): Softmax(dim=1)\n"
            "  (10): LogSoftmax(dim=-1)\n"
            "  (11): Sigmoid()\n"
            "  (12): Tanh()\n"
            "  (13): Identity()\n"
            ")");
  std::ostringstream os;
  os << net[1];
  EXPECT_EQ(os.str(), "Linear(in_features=784, out_features=128, bias=true)");
  EXPECT_EQ(BatchNorm1d({.num_features = 3, .momentum = std::nullopt}).name(),
            "BatchNorm1d(3, eps=1e-05, momentum=None, affine=true, track_running_stats=true)");
  EXPECT_EQ(AutoEncoder().to_string(),
            "AutoEncoder(\n"
            "  (encoder): Encoder(\n"
            "    (layers): Sequential(\n"
            "      (0): Linear(in_features=3, out_features=4, bias=true)\n"
            "      (1): Tanh()\n"
            "      (2): Linear(in_features=4, out_features=2, bias=true)\n"
            "    )\n"
            "  )\n"
            "  (decoder): Linear(in_features=2, out_features=3, bias=true)\n"
            ")");
}

TEST(Module, SummaryOfSmallMlp) {
  Sequential mlp = small_mlp();
  EXPECT_EQ(mlp.summary({32, 784}),
            "Model: Sequential, input [32, 784] (float32)\n"
            "=====================================\n"
            "Layer (type)   Output shape   Param #\n"
            "=====================================\n"
            "0 (Linear)     [32, 128]      100,480\n"
            "1 (ReLU)       [32, 128]            0\n"
            "2 (Dropout)    [32, 128]            0\n"
            "3 (Linear)     [32, 10]         1,290\n"
            "=====================================\n"
            "Total params: 101,770\n"
            "Trainable params: 101,770\n"
            "Non-trainable params: 0\n"
            "-------------------------------------\n");
}

TEST(Module, SummaryOfNestedModulesLeavesStateAlone) {
  manual_seed(0);
  AutoEncoder model;
  auto bn = std::make_shared<BatchNorm1d>(BatchNorm1dOptions{.num_features = 3});
  auto drop = std::make_shared<Dropout>(DropoutOptions{.p = 0.5});
  Sequential net(std::shared_ptr<Module>(&model, [](Module*) {}), bn, drop);
  model.decoder->weight().requires_grad_(false);  // 6 frozen parameters
  model.encoder->eval();  // a mixed mode, which summary must restore exactly
  const Generator::State generator_state = drop->generator().state();
  const std::string text = net.summary({5, 3}, kFloat32);
  EXPECT_EQ(text,
            "Model: Sequential, input [5, 3] (float32)\n"
            "======================================================\n"
            "Layer (type)                    Output shape   Param #\n"
            "======================================================\n"
            "0 (AutoEncoder)                 [5, 3]              --\n"
            "0.encoder (Encoder)             [5, 2]               2\n"
            "0.encoder.layers (Sequential)   [5, 2]              --\n"
            "0.encoder.layers.0 (Linear)     [5, 4]              16\n"
            "0.encoder.layers.1 (Tanh)       [5, 4]               0\n"
            "0.encoder.layers.2 (Linear)     [5, 2]              10\n"
            "0.decoder (Linear)              [5, 3]               9\n"
            "1 (BatchNorm1d)                 [5, 3]               6\n"
            "2 (Dropout)                     [5, 3]               0\n"
            "======================================================\n"
            "Total params: 43\n"
            "Trainable params: 37\n"
            "Non-trainable params: 6\n"
            "Buffer elements: 8\n"
            "------------------------------------------------------\n");
  EXPECT_TRUE(net.is_training());
  EXPECT_FALSE(model.encoder->is_training());
  EXPECT_FALSE(model.encoder->layers_->is_training());
  EXPECT_TRUE(model.decoder->is_training());
  EXPECT_EQ(bn->num_batches_tracked().item(), 0.0);
  EXPECT_EQ(bn->running_mean().to_vector<double>(), std::vector<double>(3, 0.0));
  EXPECT_EQ(drop->generator().state(), generator_state);
  // Hooks are gone: a second summary gives the same text.
  EXPECT_EQ(net.summary({5, 3}, kFloat32), text);
  // A bad input shape propagates the layer's error, and the modes are still restored.
  EXPECT_THROW_WITH(net.summary({5, 7}), ShapeError, "Linear(in_features=3", "[5, 7]");
  EXPECT_TRUE(net.is_training());
  EXPECT_FALSE(model.encoder->is_training());
}

TEST(Module, ForwardHooks) {
  Sequential net(Linear({.in_features = 2, .out_features = 3}), ReLU());
  std::vector<std::string> calls;
  const std::size_t pre = net[0].register_forward_pre_hook(
      [&](Module& m, const Tensor& in) { calls.push_back("pre " + m.type_name() + " " + to_string(in.shape())); });
  const std::size_t post = net[0].register_forward_hook([&](Module& m, const Tensor&, const Tensor& out) {
    calls.push_back("post " + m.type_name() + " " + to_string(out.shape()));
  });
  net(zeros({4, 2}));
  EXPECT_EQ(calls, (std::vector<std::string>{"pre Linear [4, 2]", "post Linear [4, 3]"}));
  EXPECT_TRUE(net[0].remove_hook(pre));
  EXPECT_TRUE(net[0].remove_hook(post));
  EXPECT_FALSE(net[0].remove_hook(post));
  net(zeros({4, 2}));
  EXPECT_EQ(calls.size(), 2u);
}

// --- Sequential ---------------------------------------------------------------------------------------

TEST(SequentialTest, ConstructionAndAccess) {
  Sequential empty_net;
  EXPECT_TRUE(empty_net.empty());
  const Tensor x = ones({2, 3});
  EXPECT_TRUE(empty_net(x).is_same(x)) << "an empty Sequential returns its input";

  auto shared = std::make_shared<Tanh>();
  Sequential net(std::vector<std::shared_ptr<Module>>{std::make_shared<Linear>(LinearOptions{.in_features = 3, .out_features = 2}),
                                                      shared});
  net.push_back(Sigmoid());
  net.push_back(std::make_shared<Identity>());
  EXPECT_EQ(net.size(), 4u);
  EXPECT_EQ(net[1].type_name(), "Tanh");
  EXPECT_EQ(net.ptr(1), shared);
  EXPECT_EQ(net.at<Linear>(0).options().out_features, 2);
  EXPECT_THROW_WITH(net.at<Linear>(1), ValueError, "module 1", "Tanh");
  EXPECT_THROW_WITH(net[4], IndexError, "4", "4 modules");
  std::vector<std::string> names;
  for (const auto& [name, m] : net.named_children()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0", "1", "2", "3"}));

  // forward applies the modules in order.
  const Linear& fc = net.at<Linear>(0);
  const std::vector<double> got = net(x).to_vector<double>();
  const std::vector<double> want = sigmoid(tanh(linear(x, fc.weight(), fc.bias()))).to_vector<double>();
  EXPECT_EQ(got, want);
}

TEST(SequentialTest, SameSeedSameNetwork) {
  const auto make = [] {
    return std::make_unique<Sequential>(Linear({.in_features = 5, .out_features = 8}), Dropout(), ReLU(),
                                        Linear({.in_features = 8, .out_features = 3}));
  };
  manual_seed(42);
  auto a = make();
  manual_seed(42);
  auto b = make();
  manual_seed(43);
  auto c = make();
  const StateDict sa = a->state_dict(), sb = b->state_dict(), sc = c->state_dict();
  for (const auto& [key, t] : sa) {
    EXPECT_TRUE(same_values(t, sb.at(key))) << key;
    EXPECT_FALSE(same_values(t, sc.at(key))) << key;
  }
  // The dropout masks follow the seed too.
  const Tensor x = ones({4, 5});
  EXPECT_TRUE(same_values((*a)(x), (*b)(x)));
  EXPECT_FALSE(same_values((*a)(x), (*c)(x)));
}
