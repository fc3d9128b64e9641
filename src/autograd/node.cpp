#include "descent/autograd/node.h"

#include "autograd/accumulate_grad.h"
#include "descent/autograd/grad_mode.h"
#include "descent/ops/elementwise.h"
#include "internal/check.h"

namespace descent {

Node::~Node() {
  // Unlink the chain behind this node by hand: a node whose last owner is this stack gives up its
  // own edges to the stack before it dies, so destruction never recurses.
  std::vector<std::shared_ptr<Node>> stack;
  for (Edge& edge : next_edges_) {
    if (edge.node) stack.push_back(std::move(edge.node));
  }
  while (!stack.empty()) {
    std::shared_ptr<Node> node = std::move(stack.back());
    stack.pop_back();
    if (node.use_count() == 1) {
      for (Edge& edge : node->next_edges_) {
        if (edge.node) stack.push_back(std::move(edge.node));
      }
    }
  }
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

namespace {
Edge edge_to(const Tensor& input) {
  Edge edge;
  if (!input.defined()) return edge;
  edge.shape = input.shape();
  edge.dtype = input.dtype();
  if (!input.requires_grad()) return edge;
  TensorImpl& impl = *input.impl();
  if (impl.grad_fn) {
    edge.node = impl.grad_fn;
    return edge;
  }
  // A leaf: its accumulator is shared by every graph that uses the leaf.
  std::shared_ptr<Node> accumulator = impl.grad_accumulator.lock();
  if (!accumulator) {
    accumulator = std::make_shared<detail::AccumulateGrad>(input.impl_ptr());
    impl.grad_accumulator = accumulator;
  }
  edge.node = std::move(accumulator);
  return edge;
}
}  // namespace

void connect_inputs(Node& node, std::initializer_list<const Tensor*> inputs) {
  node.next_edges_.reserve(inputs.size());
  for (const Tensor* t : inputs) node.next_edges_.push_back(edge_to(*t));
}

void connect_inputs(Node& node, const std::vector<Tensor>& inputs) {
  node.next_edges_.reserve(inputs.size());
  for (const Tensor& t : inputs) node.next_edges_.push_back(edge_to(t));
}

void set_history(Tensor& output, std::shared_ptr<Node> node) {
  DESCENT_DCHECK(output.is_leaf());
  output.impl()->grad_fn = std::move(node);
}

namespace detail {

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_output) {
  DESCENT_CHECK_SHAPE(grad_output.shape() == leaf->shape,
                      "backward: gradient of shape {} does not match the leaf tensor of shape {}",
                      grad_output.shape(), leaf->shape);
  DESCENT_CHECK_DTYPE(grad_output.dtype() == leaf->dtype,
                      "backward: gradient of dtype {} does not match the leaf tensor of dtype {}",
                      dtype_name(grad_output.dtype()), dtype_name(leaf->dtype));
  if (!leaf->grad.defined()) {
    // Keep the gradient only if nothing else can see its storage (an op may hand the same
    // tensor to several inputs, and an in-place change to one .grad() must not reach another).
    // The engine hands over its only reference, so use_count 1 means nobody else holds it.
    const bool exclusive = grad_output.is_contiguous() && grad_output.impl_ptr().use_count() == 1 &&
                           grad_output.impl()->storage.use_count() == 1;
    leaf->grad = exclusive ? grad_output : grad_output.clone();
  } else {
    leaf->grad = add(leaf->grad, grad_output);
  }
  return {};
}

}  // namespace detail
}  // namespace descent
