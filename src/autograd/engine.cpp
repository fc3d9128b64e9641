// The backward engine: a reverse topological walk of the graph from the root, with no recursion.
//
// 1. An iterative depth-first pass counts, for every node reachable from the root, how many
//    gradients it will receive (its incoming edges).
// 2. Starting from the root, a node runs when all its gradients have arrived (summed in
//    grad_sum_); each gradient it returns goes to the matching next edge, first summed down to
//    that input's shape when the op broadcast (the one place broadcasting is undone). Leaves end
//    in AccumulateGrad, which adds into .grad().
// 3. Without retain_graph every node frees its saved tensors afterwards and is marked released;
//    a later backward through it is an error.

#include <atomic>
#include <vector>

#include "descent/autograd/grad_mode.h"
#include "descent/autograd/node.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/reduce.h"
#include "internal/check.h"

namespace descent {

namespace {

std::atomic<std::uint64_t> walk_counter{0};

std::shared_ptr<Node> root_node(const Tensor& root) {
  if (root.grad_fn()) return root.grad_fn();
  // A leaf that requires grad: backward goes straight to its accumulator.
  struct Probe final : Node {
    Probe() : Node("probe") {}
    std::vector<Tensor> apply(const Tensor&) override { return {}; }
  } probe;
  connect_inputs(probe, {&root});
  return std::move(probe.next_edges_[0].node);
}

// Marks every node reachable from root with this walk and counts its incoming edges.
void count_dependencies(Node* root, std::uint64_t walk) {
  root->walk_ = walk;
  root->pending_ = 0;
  root->grad_sum_ = Tensor();
  std::vector<Node*> stack{root};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& edge : node->next_edges_) {
      Node* next = edge.node.get();
      if (next == nullptr) continue;
      if (next->walk_ != walk) {
        next->walk_ = walk;
        next->pending_ = 0;
        next->grad_sum_ = Tensor();
        stack.push_back(next);
      }
      ++next->pending_;
    }
  }
}

// The gradient of input `edge` from `node`, reduced to the input's shape.
Tensor fit_to_input(const Node& node, const Edge& edge, Tensor grad) {
  DESCENT_CHECK_DTYPE(grad.dtype() == edge.dtype,
                      "backward of {}: gradient of dtype {} for an input of dtype {}", node.name(),
                      dtype_name(grad.dtype()), dtype_name(edge.dtype));
  if (grad.shape() == edge.shape) return grad;
  // Broadcasting only ever adds leading dims or stretches size-1 dims, so anything else is a bug
  // in the op's backward; say which op.
  const Shape& g = grad.shape();
  bool reducible = g.size() >= edge.shape.size();
  for (std::size_t i = 0; reducible && i < edge.shape.size(); ++i) {
    const std::int64_t want = edge.shape[i];
    const std::int64_t have = g[g.size() - edge.shape.size() + i];
    reducible = want == have || want == 1;
  }
  DESCENT_CHECK_SHAPE(reducible, "backward of {}: gradient of shape {} cannot be reduced to the input shape {}",
                      node.name(), g, edge.shape);
  return sum_to(grad, edge.shape);
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_root, bool retain_graph) {
  std::shared_ptr<Node> start = root_node(root);
  const std::uint64_t walk = ++walk_counter;
  count_dependencies(start.get(), walk);
  start->grad_sum_ = grad_root;

  NoGradGuard no_grad;  // backward computations build no graph
  std::vector<Node*> ready{start.get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    DESCENT_CHECK_AUTOGRAD(!node->released_,
                           "backward: trying to backward through the graph a second time (at {}); its saved "
                           "tensors were freed after the first backward. Pass retain_graph=true to the "
                           "first backward if you need to backward twice",
                           node->name());
    Tensor grad = std::move(node->grad_sum_);
    node->grad_sum_ = Tensor();
    std::vector<Tensor> input_grads;
    if (grad.defined()) input_grads = node->apply(grad);
    grad = Tensor();
    if (!retain_graph && !node->reusable()) {
      node->release_saved();
      node->released_ = true;
    }
    const std::vector<Edge>& edges = node->next_edges_;
    DESCENT_DCHECK(input_grads.empty() || input_grads.size() == edges.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
      Node* next = edges[i].node.get();
      if (next == nullptr) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        Tensor g = fit_to_input(*node, edges[i], std::move(input_grads[i]));
        next->grad_sum_ = next->grad_sum_.defined() ? add(next->grad_sum_, g) : std::move(g);
      }
      if (--next->pending_ == 0) ready.push_back(next);
    }
  }
}

}  // namespace descent
