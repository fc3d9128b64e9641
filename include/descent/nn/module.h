#pragma once
// Module: the base of every layer and network, as torch.nn.Module. A module owns named parameters
// (tensors that require grad and that optimizers update), named buffers (state that is saved but
// not trained, such as BatchNorm's running statistics) and named child modules, all kept in
// registration order so that names such as "0.weight" or "encoder.1.bias" are stable.
//
//   class Mlp : public descent::nn::Module {
//    public:
//     Mlp() {
//       fc1_ = register_module("fc1", std::make_shared<Linear>(LinearOptions{.in_features = 784, .out_features = 128}));
//       fc2_ = register_module("fc2", std::make_shared<Linear>(LinearOptions{.in_features = 128, .out_features = 10}));
//     }
//     Tensor forward(const Tensor& x) override { return (*fc2_)(relu((*fc1_)(x))); }
//    private:
//     std::shared_ptr<Linear> fc1_, fc2_;
//   };
//
// Parameters and buffers are Tensor handles shared between the registry and the layer's members:
// load_state_dict, to(dtype), initializers and optimizers change their values in place (the same
// TensorImpl), so every handle sees the change.
//
// Modules are neither copied nor assigned (a copy would silently share parameters); they are moved
// into containers or held by std::shared_ptr.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "descent/core/tensor.h"

namespace descent::nn {

/// Name -> tensor in insertion order, like the OrderedDict that PyTorch's state_dict returns.
/// Keys are unique: insert replaces the value of an existing key in its place.
class StateDict {
 public:
  using Item = std::pair<std::string, Tensor>;

  StateDict() = default;
  StateDict(std::initializer_list<Item> items);
  /// The entries of a sorted map (for instance one read from a file), in the map's order.
  explicit StateDict(const std::map<std::string, Tensor>& map);

  void insert(const std::string& key, const Tensor& value);
  bool contains(std::string_view key) const;
  /// The tensor under key; throws IndexError naming the key when there is none.
  const Tensor& at(std::string_view key) const;
  /// Null when the key is absent.
  const Tensor* find(std::string_view key) const;
  /// Removes key; false when it was absent.
  bool erase(std::string_view key);

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<std::string> keys() const;
  std::vector<Item>::const_iterator begin() const { return items_.begin(); }
  std::vector<Item>::const_iterator end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  /// The computation. The base class has none and throws ValueError (as PyTorch's Module does).
  virtual Tensor forward(const Tensor& input);
  /// Runs the forward pre-hooks, forward, then the forward hooks. Call modules this way (not
  /// forward directly) so that hooks and summary() see every layer.
  Tensor operator()(const Tensor& input);

  // --- registration ---------------------------------------------------------------------------
  // Names are non-empty, contain no '.', and are unique among a module's parameters, buffers and
  // children (ValueError otherwise).

  /// Registers a parameter and marks it requires_grad (unless requires_grad is false: a frozen
  /// parameter). An undefined tensor registers an absent parameter, which the accessors skip.
  /// Returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  /// Registers a buffer (saved in state_dict, converted by to(), never trained).
  Tensor register_buffer(const std::string& name, Tensor tensor);
  /// Registers a child module; returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // --- access ---------------------------------------------------------------------------------

  /// Parameters of this module and (with recurse) its descendants, depth first in registration
  /// order. A tensor registered twice (shared weights) is listed once, as in PyTorch.
  std::vector<Tensor> parameters(bool recurse = true) const;
  /// The same with PyTorch's keys: "weight", "0.bias", "encoder.1.weight".
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  /// Direct children in registration order.
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
  /// This module (named "") and every descendant, depth first (pre-order), with dotted names.
  std::vector<std::pair<std::string, Module*>> named_modules();

  // --- modes and state ------------------------------------------------------------------------

  /// Sets training mode on this module and every descendant (Dropout and BatchNorm behave
  /// differently in training and evaluation). Modules start in training mode.
  Module& train(bool on = true);
  /// train(false).
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }

  /// Clears the gradient of every parameter: undefined (set_to_none, PyTorch 2.x's default), or
  /// zeroed in place.
  void zero_grad(bool set_to_none = true);

  /// Every parameter and buffer under its dotted name, in registration order (parameters of a
  /// module before its buffers, then its children). The tensors are detached handles to the same
  /// storage, as in PyTorch: clone them to keep a snapshot.
  StateDict state_dict() const;
  /// Copies the values of `state` into the parameters and buffers in place, without recording a
  /// graph (converting the dtype if it differs). Nothing is copied unless every check passes:
  /// a shape mismatch is always an error; with strict, so are keys the module lacks (unexpected)
  /// and keys of the module that `state` lacks (missing). The ValueError lists every problem.
  void load_state_dict(const StateDict& state, bool strict = true);

  /// Converts every floating parameter, buffer and gradient to dtype, in place (the handles stay
  /// the same, as PyTorch's module.to(dtype) keeps the Parameter objects). Integer buffers such as
  /// BatchNorm's num_batches_tracked are kept.
  Module& to(DType dtype);

  // --- description ----------------------------------------------------------------------------

  /// The class name without namespaces ("Linear", "Sequential", or a user's class name).
  virtual std::string type_name() const;
  /// The arguments shown between the parentheses of name(): "in_features=784, out_features=128, bias=true".
  virtual std::string extra_repr() const { return ""; }
  /// type_name() + "(" + extra_repr() + ")", e.g. "Linear(in_features=784, out_features=128, bias=true)".
  std::string name() const;
  /// The module tree in PyTorch's repr layout:
  ///   Sequential(
  ///     (0): Linear(in_features=2, out_features=4, bias=true)
  ///     (1): Tanh()
  ///   )
  std::string to_string() const;

  /// A Keras-style table of the layers: name (type), output shape and parameter count per layer,
  /// then the totals. The output shapes come from one forward pass on zeros of input_shape (dtype:
  /// the given one, else that of the first floating parameter, else float32) under NoGradGuard and
  /// in evaluation mode, so running statistics and random generators are left untouched; every
  /// module's mode is restored afterwards. One row per module call, except for the root module when
  /// it only contains others; "--" marks a container without parameters of its own.
  std::string summary(const Shape& input_shape, std::optional<DType> dtype = std::nullopt);

  // --- hooks ------------------------------------------------------------------------------------

  using ForwardPreHook = std::function<void(Module& module, const Tensor& input)>;
  using ForwardHook = std::function<void(Module& module, const Tensor& input, const Tensor& output)>;
  /// Called by operator() before forward; returns a handle for remove_hook.
  std::size_t register_forward_pre_hook(ForwardPreHook hook);
  /// Called by operator() after forward with the input and the output; returns a handle.
  std::size_t register_forward_hook(ForwardHook hook);
  /// Removes a hook of this module; false when the handle is not one of them.
  bool remove_hook(std::size_t handle);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, std::string_view what) const;
  void collect(const std::string& prefix, bool recurse, bool buffers, bool skip_duplicates,
               std::vector<std::pair<std::string, Tensor>>& out, std::vector<const TensorImpl*>& seen) const;
  void print_tree(std::string& out, int indent) const;

  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<std::size_t, ForwardPreHook>> pre_hooks_;
  std::vector<std::pair<std::size_t, ForwardHook>> hooks_;
};

/// Writes module.to_string().
std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace descent::nn
