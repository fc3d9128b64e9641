#pragma once
// A node of the autograd graph: created by an op in the forward pass when an input requires
// gradients, it knows how to turn the gradient of its output into gradients of its inputs.
//
// An op defines its node next to its forward (see src/ops/): a struct deriving from Node whose
// members are the saved values it needs, named (no positional saved lists), e.g.
//
//   struct TanhBackward final : Node {
//     Tensor y;                                     // saved output
//     std::vector<Tensor> apply(const Tensor& gy) override {
//       return {mul(gy, rsub(mul(y, y), 1.0))};     // d tanh(x)/dx = 1 - tanh(x)^2
//     }
//     void release_saved() override { y = Tensor(); }
//   };
//
// Gradients returned for broadcast inputs may have the broadcast (output) shape: the engine
// reduces them to each input's shape in one place (sum_to).

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

#include "descent/core/tensor.h"

namespace descent {

class Node;

/// Where the gradient of one input goes: the node that produced it (or the leaf's accumulator),
/// and the input's shape and dtype so the engine can reduce a broadcast gradient.
struct Edge {
  std::shared_ptr<Node> node;  // null when this input needs no gradient
  Shape shape;
  DType dtype = DType::Float32;
};

class Node {
 public:
  explicit Node(std::string_view name) : name_(name) {}
  /// Destroys the chain of nodes behind this one iteratively, so that a graph a million ops
  /// long does not overflow the stack when it dies.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Gradients of the inputs, one per edge (an undefined Tensor for "no gradient"), given the
  /// gradient of the output. Runs with grad mode off.
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  /// Frees the saved tensors; called after a backward without retain_graph.
  virtual void release_saved() {}

  /// The op's name, as in error messages ("matmul", "add").
  std::string_view name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return next_edges_; }
  /// Whether input i needs a gradient (so apply can skip the work).
  bool needs_grad(std::size_t i) const { return i < next_edges_.size() && next_edges_[i].node; }

  /// Whether the node survives a backward (true only for a leaf's accumulator); every other node
  /// frees its saved tensors and refuses a second backward unless retain_graph was given.
  virtual bool reusable() const { return false; }

  // Engine bookkeeping (see engine.cpp).
  std::vector<Edge> next_edges_;
  bool released_ = false;
  std::uint64_t walk_ = 0;  // the backward walk that last visited this node
  int pending_ = 0;         // gradients still to arrive in the current walk
  Tensor grad_sum_;         // gradient accumulated so far in the current walk

 private:
  std::string_view name_;
};

/// True when an op on these inputs must record a node (grad mode on and some input requires grad).
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

/// Connects `node` to the inputs (one edge each, in order). Call only when any_requires_grad.
void connect_inputs(Node& node, std::initializer_list<const Tensor*> inputs);
void connect_inputs(Node& node, const std::vector<Tensor>& inputs);

/// Makes `node` the grad_fn of `output` (which must be freshly created by the op).
void set_history(Tensor& output, std::shared_ptr<Node> node);

/// The usual recording step of an op: if any input requires grad, creates a NodeT, connects it to
/// the inputs and returns it (the op then fills its saved members and calls set_history);
/// otherwise returns null.
template <typename NodeT, typename... Args>
std::shared_ptr<NodeT> make_node(std::initializer_list<const Tensor*> inputs, Args&&... args) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<NodeT>(std::forward<Args>(args)...);
  connect_inputs(*node, inputs);
  return node;
}

/// Runs backward from `root` with gradient `grad_root` (same shape as root).
void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph);

}  // namespace descent
