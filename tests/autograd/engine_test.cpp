// The backward engine: accumulation, graph release, error handling, grad mode, detach, gradient
// ownership, broadcasting, graph shapes (diamonds, million-node chains).

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <descent/descent.h>

using namespace descent;

namespace {

using Doubles = std::vector<double>;

Tensor leaf(const Doubles& values, const Shape& shape, DType dtype = kFloat64) {
  Tensor t = tensor(values, shape, dtype);
  t.requires_grad_();
  return t;
}

Doubles values(const Tensor& t) { return t.to_vector<double>(); }

template <typename ErrorT, typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const ErrorT& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a different exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A node whose backward returns whatever the test wants, to probe the engine's checks.
struct ScriptedBackward final : Node {
  ScriptedBackward() : Node("scripted") {}
  std::vector<Tensor> grads;
  bool saw_grad_mode = true;
  int calls = 0;
  std::vector<Tensor> apply(const Tensor&) override {
    ++calls;
    saw_grad_mode = GradMode::is_enabled();
    return std::move(grads);  // hands over its references, as an op's backward does
  }
};

// y = x's values (a fresh tensor) with a ScriptedBackward as grad_fn.
std::shared_ptr<ScriptedBackward> scripted(const std::vector<Tensor>& inputs, const Tensor& like, Tensor& y) {
  y = like.detach().clone();
  auto node = std::make_shared<ScriptedBackward>();
  connect_inputs(*node, inputs);
  set_history(y, node);
  return node;
}

// ---- accumulation ----------------------------------------------------------------------------

TEST(Engine, TensorUsedTwiceReceivesTheSum) {
  Tensor x = leaf({1, 2, -3}, {3});
  Tensor y = sum(add(mul(x, x), x));  // dy/dx = 2x + 1
  y.backward();
  EXPECT_EQ(values(x.grad()), (Doubles{3, 5, -5}));

  Tensor z = leaf({2}, {1});
  add(z, z).backward();  // the same tensor as both operands of one op
  EXPECT_EQ(values(z.grad()), (Doubles{2}));

  Tensor w = leaf({1.5}, {});
  mul(mul(w, w), w).backward();  // w^3 -> 3 w^2
  EXPECT_DOUBLE_EQ(w.grad().item(), 3 * 1.5 * 1.5);
}

TEST(Engine, GradsAccumulateAcrossBackwardCallsWithRetainGraph) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = sum(mul(x, x));
  y.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_EQ(values(x.grad()), (Doubles{2, 4}));
  y.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_EQ(values(x.grad()), (Doubles{4, 8}));
  y.backward();  // the last one may free the graph
  EXPECT_EQ(values(x.grad()), (Doubles{6, 12}));
  EXPECT_THROW(y.backward(), AutogradError);
  EXPECT_EQ(values(x.grad()), (Doubles{6, 12}));
}

TEST(Engine, SeparateGraphsSharingALeafAccumulate) {
  Tensor x = leaf({1, 2}, {2});
  sum(mul(x, 2.0)).backward();
  sum(mul(x, 3.0)).backward();  // the leaf's accumulator outlives the first (released) graph
  EXPECT_EQ(values(x.grad()), (Doubles{5, 5}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
  sum(x).backward();
  EXPECT_EQ(values(x.grad()), (Doubles{1, 1}));
}

// ---- released graphs ---------------------------------------------------------------------------

TEST(Engine, SecondBackwardThroughReleasedGraphThrows) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = sum(mul(x, x));
  y.backward();
  const std::string msg = error_message<AutogradError>([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "retain_graph")) << msg;
  EXPECT_TRUE(contains(msg, "second time")) << msg;
  // The gradient of the first backward is intact.
  EXPECT_EQ(values(x.grad()), (Doubles{2, 4}));
}

TEST(Engine, BackwardThroughAReleasedSubgraphThrows) {
  Tensor x = leaf({1, 2}, {2});
  Tensor h = mul(x, x);
  sum(h).backward();
  // A new op on top of the released h: the walk reaches h's released node.
  Tensor z = sum(mul(h, 2.0));
  const std::string msg = error_message<AutogradError>([&] { z.backward(); });
  EXPECT_TRUE(contains(msg, "retain_graph")) << msg;
  EXPECT_TRUE(GradMode::is_enabled());  // the engine's no-grad scope ended with the exception
}

// ---- misuse ------------------------------------------------------------------------------------

TEST(Engine, NonScalarWithoutGradientThrowsWithShape) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = mul(x, 2.0);
  const std::string msg = error_message<AutogradError>([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "[2, 3]")) << msg;
  EXPECT_FALSE(x.grad().defined());
  // One element in any number of dims is fine.
  Tensor s = leaf({3}, {1, 1});
  mul(s, 2.0).backward();
  EXPECT_EQ(values(s.grad()), (Doubles{2}));
}

TEST(Engine, GradientOfWrongShapeOrDTypeThrows) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = mul(x, 2.0);
  const std::string shape_msg = error_message<ShapeError>([&] { y.backward(ones({2}, kFloat64)); });
  EXPECT_TRUE(contains(shape_msg, "[2]") && contains(shape_msg, "[3]")) << shape_msg;
  EXPECT_THROW(y.backward(ones({3, 1}, kFloat64)), ShapeError);
  EXPECT_THROW(y.backward(ones({}, kFloat64)), ShapeError);
  const std::string dtype_msg = error_message<DTypeError>([&] { y.backward(ones({3}, kFloat32)); });
  EXPECT_TRUE(contains(dtype_msg, "float32") && contains(dtype_msg, "float64")) << dtype_msg;
  EXPECT_THROW(y.backward(tensor_int64({1, 1, 1}, {3})), DTypeError);
  // The failed calls did not release the graph.
  y.backward(ones({3}, kFloat64));
  EXPECT_EQ(values(x.grad()), (Doubles{2, 2, 2}));
}

TEST(Engine, BackwardOnTensorNotRequiringGradThrows) {
  Tensor x = tensor({1, 2}, {2}, kFloat64);
  Tensor y = sum(mul(x, x));
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(y.backward(), AutogradError);
  EXPECT_THROW(x.backward(ones({2}, kFloat64)), AutogradError);
  EXPECT_THROW(scalar_tensor(1.0).backward(), AutogradError);
}

TEST(Engine, RequiresGradFlagRules) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  Tensor y = mul(x, 2.0);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  EXPECT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "mul");
  // Only leaves may change the flag (use detach() for a leaf); asking a non-leaf to keep requiring
  // grad is a no-op, as in PyTorch.
  EXPECT_NO_THROW(y.requires_grad_());
  EXPECT_TRUE(y.requires_grad());
  const std::string msg = error_message<AutogradError>([&] { y.requires_grad_(false); });
  EXPECT_TRUE(contains(msg, "leaf")) << msg;
  EXPECT_TRUE(contains(msg, "mul")) << msg;
  // Only floating tensors can require gradients.
  Tensor i = tensor_int64({1, 2}, {2});
  const std::string int_msg = error_message<DTypeError>([&] { i.requires_grad_(); });
  EXPECT_TRUE(contains(int_msg, "int64")) << int_msg;
  EXPECT_FALSE(i.requires_grad());
  EXPECT_NO_THROW(i.requires_grad_(false));
  // Turning it off again makes an ordinary tensor.
  Tensor z = leaf({1}, {1});
  z.requires_grad_(false);
  EXPECT_FALSE(z.requires_grad());
  EXPECT_EQ(mul(z, 2.0).grad_fn(), nullptr);
  // float32 leaves work too.
  Tensor f = leaf({1, 2}, {2}, kFloat32);
  sum(mul(f, f)).backward();
  EXPECT_EQ(f.grad().dtype(), kFloat32);
  EXPECT_EQ(values(f.grad()), (Doubles{2, 4}));
}

TEST(Engine, GradOfLeafAfterBackward) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor b = tensor({4, 5, 6}, {3}, kFloat64);  // does not require grad
  EXPECT_FALSE(x.grad().defined());
  Tensor h = mul(x, b);
  sum(h).backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(x.grad().dtype(), kFloat64);
  EXPECT_EQ(values(x.grad()), (Doubles{4, 5, 6}));
  EXPECT_FALSE(x.grad().requires_grad());
  EXPECT_FALSE(b.grad().defined());  // no gradient for an input that does not require it
  EXPECT_FALSE(h.grad().defined());  // non-leaves keep no .grad (as without retain_grad)
  EXPECT_THROW(x.set_grad(ones({2}, kFloat64)), ShapeError);
  EXPECT_THROW(x.set_grad(ones({3}, kFloat32)), Error);
}

TEST(Engine, BackwardFromALeafPutsOnesInItsGrad) {
  Tensor x = leaf({1, 2, 3}, {3});
  x.backward(ones({3}, kFloat64));
  EXPECT_EQ(values(x.grad()), (Doubles{1, 1, 1}));
  Tensor s = leaf({5}, {});
  s.backward();
  EXPECT_EQ(values(s.grad()), (Doubles{1}));
  s.backward();  // a leaf's accumulator is never released
  EXPECT_EQ(values(s.grad()), (Doubles{2}));
  // The gradient given is copied, not aliased.
  Tensor g = tensor({7, 8, 9}, {3}, kFloat64);
  Tensor y = leaf({0, 0, 0}, {3});
  y.backward(g);
  g.set_flat(0, 100);
  EXPECT_EQ(values(y.grad()), (Doubles{7, 8, 9}));
}

// ---- grad mode -------------------------------------------------------------------------------------

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1, 2}, {2});
  ASSERT_TRUE(GradMode::is_enabled());
  {
    NoGradGuard guard;
    EXPECT_FALSE(GradMode::is_enabled());
    Tensor y = mul(x, x);
    EXPECT_EQ(y.grad_fn(), nullptr);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    EXPECT_EQ(values(y), (Doubles{1, 4}));
    {
      NoGradGuard nested;
      EXPECT_FALSE(GradMode::is_enabled());
    }
    EXPECT_FALSE(GradMode::is_enabled());  // the inner guard restores "off", not "on"
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_NE(mul(x, x).grad_fn(), nullptr);
}

TEST(Engine, NoGradGuardRestoredWhenAnExceptionLeavesTheScope) {
  try {
    NoGradGuard guard;
    tensor({1, 2, 3}, {2});  // throws ShapeError
    FAIL() << "did not throw";
  } catch (const ShapeError&) {
  }
  EXPECT_TRUE(GradMode::is_enabled());
  // And with grad mode already off, the guard restores "off".
  GradMode::set_enabled(false);
  try {
    NoGradGuard guard;
    throw ValueError("x");
  } catch (const ValueError&) {
  }
  EXPECT_FALSE(GradMode::is_enabled());
  GradMode::set_enabled(true);
}

TEST(Engine, BackwardRunsWithGradModeOffAndRestoresIt) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y;
  auto node = scripted({x}, x, y);
  node->grads = {ones({2}, kFloat64)};
  y.backward(ones({2}, kFloat64));
  EXPECT_EQ(node->calls, 1);
  EXPECT_FALSE(node->saw_grad_mode);
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_FALSE(x.grad().requires_grad());
}

// ---- detach -------------------------------------------------------------------------------------------

TEST(Engine, DetachCutsTheGraphAndSharesStorage) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor h = mul(x, 2.0);
  Tensor d = h.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_EQ(d.impl()->storage, h.impl()->storage);
  EXPECT_EQ(values(d), values(h));
  d.set_flat(0, 42);  // shares storage: visible through h
  EXPECT_EQ(h.flat(0), 42);
  // Views keep their strides and offset.
  Tensor v = leaf({1, 2, 3, 4, 5, 6}, {2, 3}).t().slice(0, 1, 3);
  Tensor dv = v.detach();
  EXPECT_EQ(dv.strides(), v.strides());
  EXPECT_EQ(dv.offset(), v.offset());
  EXPECT_EQ(values(dv), values(v));
  // No gradient flows through a detached path: y = x * detach(x) -> dy/dx = detach(x).
  Tensor y = sum(mul(x, x.detach()));
  y.backward();
  EXPECT_EQ(values(x.grad()), (Doubles{1, 2, 3}));
  // Detaching a leaf gives a tensor that can become a new, independent leaf.
  Tensor n = x.detach();
  n.requires_grad_();
  sum(n).backward();
  EXPECT_EQ(values(n.grad()), (Doubles{1, 1, 1}));
  EXPECT_EQ(values(x.grad()), (Doubles{1, 2, 3}));
}

// ---- gradient ownership -------------------------------------------------------------------------------

TEST(Engine, LeavesGivenTheSameGradientObjectDoNotShareStorage) {
  // add's backward hands the very same tensor to both inputs.
  Tensor a = leaf({1, 2, 3}, {3});
  Tensor b = leaf({4, 5, 6}, {3});
  Tensor z = add(a, b);
  z.backward(ones({3}, kFloat64));
  ASSERT_TRUE(a.grad().defined() && b.grad().defined());
  EXPECT_NE(a.grad().impl()->storage, b.grad().impl()->storage);
  a.grad().set_flat(0, 10);
  EXPECT_EQ(values(b.grad()), (Doubles{1, 1, 1}));
  b.grad().set_flat(2, -7);
  EXPECT_EQ(values(a.grad()), (Doubles{10, 1, 1}));

  // The same when the shared gradient is made inside the graph (sum's backward).
  Tensor c = leaf({1, 2}, {2});
  Tensor d = leaf({3, 4}, {2});
  sum(add(c, d)).backward();
  EXPECT_NE(c.grad().impl()->storage, d.grad().impl()->storage);
  c.grad().set_flat(1, 99);
  EXPECT_EQ(values(d.grad()), (Doubles{1, 1}));

  // Three leaves through nested adds and an identity expand.
  Tensor p = leaf({1, 2}, {2}), q = leaf({1, 2}, {2}), r = leaf({1, 2}, {2});
  Tensor s = add(add(p, q), r.expand({2}));
  s.backward(full({2}, 3.0, kFloat64));
  p.grad().set_flat(0, 0);
  q.grad().set_flat(1, 0);
  EXPECT_EQ(values(p.grad()), (Doubles{0, 3}));
  EXPECT_EQ(values(q.grad()), (Doubles{3, 0}));
  EXPECT_EQ(values(r.grad()), (Doubles{3, 3}));
}

TEST(Engine, LeafGradDoesNotAliasSavedOrUserTensors) {
  // A scripted node that returns a tensor the test keeps: the leaf's grad must be a copy.
  Tensor x = leaf({1, 2}, {2});
  Tensor y;
  auto node = scripted({x}, x, y);
  Tensor kept = tensor({5, 6}, {2}, kFloat64);
  node->grads = {kept};
  y.backward(ones({2}, kFloat64), /*retain_graph=*/true);
  kept.set_flat(0, -1);
  EXPECT_EQ(values(x.grad()), (Doubles{5, 6}));
  // A gradient sharing storage with a tensor the test keeps (a view of it) is copied as well.
  Tensor base = tensor({1, 2, 3, 4}, {4}, kFloat64);
  x.set_grad(Tensor());
  node->grads = {base.slice(0, 2, 4)};
  y.backward(ones({2}, kFloat64));
  base.set_flat(2, 0);
  EXPECT_EQ(values(x.grad()), (Doubles{3, 4}));
}

// ---- broadcasting -----------------------------------------------------------------------------------------

TEST(Engine, BroadcastGradientsReducedToInputShapes) {
  Tensor a = leaf({1, 2, 3}, {3, 1});
  Tensor b = leaf({10, 20, 30, 40}, {4});
  Tensor z = add(a, b);
  ASSERT_EQ(z.shape(), (Shape{3, 4}));
  Tensor g = arange(12, kFloat64).reshape({3, 4});  // rows sum to 6, 22, 38; columns to 12, 15, 18, 21
  z.backward(g);
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(b.grad().shape(), (Shape{4}));
  EXPECT_EQ(values(a.grad()), (Doubles{6, 22, 38}));
  EXPECT_EQ(values(b.grad()), (Doubles{12, 15, 18, 21}));

  // mul broadcasting: d(a*b)/da = sum over broadcast dims of g * b.
  Tensor c = leaf({1, 2}, {2, 1});
  Tensor d = leaf({3, 4, 5}, {1, 3});
  sum(mul(c, d)).backward();
  EXPECT_EQ(values(c.grad()), (Doubles{12, 12}));
  EXPECT_EQ(values(d.grad()), (Doubles{3, 3, 3}));

  // A scalar operand broadcast against a matrix.
  Tensor s = leaf({2}, {});
  Tensor m = leaf({1, 2, 3, 4}, {2, 2});
  sum(mul(m, s)).backward();
  EXPECT_EQ(s.grad().shape(), Shape{});
  EXPECT_DOUBLE_EQ(s.grad().item(), 10);
  EXPECT_EQ(values(m.grad()), (Doubles{2, 2, 2, 2}));
}

TEST(Engine, NodeGradientOfUnreducibleShapeThrowsNamingTheOp) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y;
  auto node = scripted({x}, x, y);
  node->grads = {ones({3}, kFloat64)};
  // retain_graph: a node that ran is released even when its gradient is then rejected.
  const std::string msg = error_message<ShapeError>([&] { y.backward(ones({2}, kFloat64), true); });
  EXPECT_TRUE(contains(msg, "scripted")) << msg;
  EXPECT_TRUE(contains(msg, "[3]") && contains(msg, "[2]")) << msg;
  EXPECT_TRUE(GradMode::is_enabled());
  node->grads = {ones({2}, kFloat32)};
  const std::string dtype_msg = error_message<DTypeError>([&] { y.backward(ones({2}, kFloat64)); });
  EXPECT_TRUE(contains(dtype_msg, "scripted")) << dtype_msg;
}

TEST(Engine, UndefinedGradientForAnInputIsSkipped) {
  Tensor x = leaf({1, 2}, {2});
  Tensor w = leaf({3, 4}, {2});
  Tensor y;
  auto node = scripted({x, w}, x, y);
  node->grads = {Tensor(), full({2}, 2.0, kFloat64)};
  y.backward(ones({2}, kFloat64));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_EQ(values(w.grad()), (Doubles{2, 2}));
}

// ---- graph shapes -------------------------------------------------------------------------------------------

TEST(Engine, DiamondGraph) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor a = mul(x, 3.0);       // x -> a
  Tensor b = mul(x, x);         // x -> b
  Tensor y = sum(add(a, b));    // a + b: dy/dx = 3 + 2x
  y.backward();
  EXPECT_EQ(values(x.grad()), (Doubles{5, 7, 9}));

  // A diamond above a shared interior node: h feeds two branches that meet again.
  Tensor u = leaf({0.5, -1}, {2});
  Tensor h = mul(u, u);                   // h = u^2
  Tensor p = mul(h, 2.0);                 // 2h
  Tensor q = mul(h, h);                   // h^2
  sum(add(p, mul(q, h))).backward();      // 2h + h^3 -> (2 + 3h^2) * 2u
  const Doubles uv = {0.5, -1};
  for (int i = 0; i < 2; ++i) {
    const double hv = uv[i] * uv[i];
    EXPECT_DOUBLE_EQ(u.grad().flat(i), (2 + 3 * hv * hv) * 2 * uv[i]);
  }
}

TEST(Engine, GradientsThroughViews) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = sum(mul(x.t().slice(0, 1, 3), arange(1, 5, 1, kFloat64).reshape({2, 2})));
  y.backward();
  // x.t()[1:3] = [[2, 5], [3, 6]] weighted by [[1, 2], [3, 4]].
  EXPECT_EQ(values(x.grad()), (Doubles{0, 1, 3, 0, 2, 4}));
}

TEST(Engine, MillionNodeChainBackwardAndDestruction) {
  constexpr int kNodes = 1'000'000;
  const auto start = std::chrono::steady_clock::now();
  {
    Tensor x = leaf({1.0}, {});
    Tensor y = x;
    for (int i = 0; i < kNodes; ++i) y = mul(y, 1.0000001);
    y.backward();  // no recursion: must not overflow the stack
    EXPECT_NEAR(x.grad().item(), std::pow(1.0000001, kNodes), 1e-9);
    EXPECT_NEAR(y.item(), std::pow(1.0000001, kNodes), 1e-9);
  }  // the released chain dies here
  {
    Tensor x = leaf({2.0}, {});
    Tensor y = x;
    for (int i = 0; i < kNodes; ++i) y = add(y, 0.0);
    EXPECT_EQ(y.item(), 2.0);
  }  // destroyed without backward: the destructor must not recurse a million deep either
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("seconds", std::to_string(seconds));
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  // About 1.5-3 s in Release on a busy 2-core machine (mostly malloc: ~5 small allocations per op).
  // The bound only catches a super-linear regression; Debug and sanitizer builds are not timed.
  EXPECT_LT(seconds, 15.0);
#endif
}

TEST(Engine, LongChainOfBinaryOpsDestroyedWithoutBackward) {
  // Binary ops whose other operand is a constant and whose nodes save tensors. 300,000 nodes are
  // far beyond what a recursive destruction survives on an 8 MiB stack; each node here costs about
  // ten small allocations (the saved detach() among them), so a million would take several seconds.
  Tensor x = leaf({1.0}, {1});
  const Tensor c = ones({1}, kFloat64);
  Tensor y = x;
  for (int i = 0; i < 300'000; ++i) y = mul(y, c);
  EXPECT_EQ(y.item(), 1.0);
  y = Tensor();  // drops the whole chain
  EXPECT_TRUE(x.requires_grad());
}

}  // namespace
