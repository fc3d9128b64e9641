#pragma once
// Sequential: modules applied one after the other, as torch.nn.Sequential. Children are named
// "0", "1", ... in order, so a Sequential's parameters have PyTorch's keys ("0.weight", "2.bias").
//
//   Sequential model{Linear({.in_features = 784, .out_features = 128}), ReLU(),
//                    Linear({.in_features = 128, .out_features = 10})};
//   Tensor logits = model(x);
//
// Modules given by value are moved into the Sequential; modules given as std::shared_ptr are
// shared (the same layer may then appear in several networks). A single Sequential given by value
// is moved, not nested: nest it through std::make_shared<Sequential>(...).

#include <concepts>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "descent/nn/module.h"

namespace descent::nn {

namespace detail {
/// A module rvalue (moved in). Lvalues are refused: modules are not copied.
template <typename M>
concept ModuleRvalue = std::derived_from<std::remove_cvref_t<M>, Module> && !std::is_lvalue_reference_v<M>;
/// A module rvalue or a shared_ptr to a module.
template <typename M>
concept ModuleArg = ModuleRvalue<M> || std::convertible_to<M, std::shared_ptr<Module>>;
}  // namespace detail

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  template <detail::ModuleArg... Ms>
    requires(sizeof...(Ms) > 0)
  explicit Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  /// Appends a module under the next index as name.
  void push_back(std::shared_ptr<Module> module);
  template <detail::ModuleRvalue M>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(module))));
  }

  std::size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }
  /// The i-th module; IndexError when i >= size().
  Module& operator[](std::size_t i) const;
  /// The i-th module as a shared pointer.
  std::shared_ptr<Module> ptr(std::size_t i) const;
  /// The i-th module as M&; ValueError when it is not an M.
  template <typename M>
  M& at(std::size_t i) const {
    auto* m = dynamic_cast<M*>(&(*this)[i]);
    if (m == nullptr) throw_wrong_type(i);
    return *m;
  }

  /// Applies every module in order; an empty Sequential returns its input.
  Tensor forward(const Tensor& input) override;

 private:
  [[noreturn]] void throw_wrong_type(std::size_t i) const;
};

}  // namespace descent::nn
