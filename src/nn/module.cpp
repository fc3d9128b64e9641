// Module: registration, recursive access, modes, state dicts, dtype conversion, printing, hooks.
// (summary() lives in summary.cpp.)

#include "descent/nn/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ostream>
#include <set>
#include <typeinfo>

#include "descent/autograd/grad_mode.h"
#include "internal/check.h"
#include "nn/assign.h"

namespace descent::nn {

// --- StateDict ------------------------------------------------------------------------------------

StateDict::StateDict(std::initializer_list<Item> items) {
  for (const Item& item : items) insert(item.first, item.second);
}

StateDict::StateDict(const std::map<std::string, Tensor>& map) {
  for (const auto& [key, value] : map) insert(key, value);
}

void StateDict::insert(const std::string& key, const Tensor& value) {
  const auto it = index_.find(key);
  if (it != index_.end()) {
    items_[it->second].second = value;
    return;
  }
  index_.emplace(key, items_.size());
  items_.emplace_back(key, value);
}

bool StateDict::contains(std::string_view key) const { return index_.find(key) != index_.end(); }

const Tensor* StateDict::find(std::string_view key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Tensor& StateDict::at(std::string_view key) const {
  const Tensor* t = find(key);
  DESCENT_CHECK_INDEX(t != nullptr, "StateDict: no key \"{}\"", key);
  return *t;
}

bool StateDict::erase(std::string_view key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  const std::size_t pos = it->second;
  items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(pos));
  index_.erase(it);
  for (auto& [k, i] : index_) {
    if (i > pos) --i;
  }
  return true;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const Item& item : items_) out.push_back(item.first);
  return out;
}

// --- forward and hooks ----------------------------------------------------------------------------

Tensor Module::forward(const Tensor&) {
  throw ValueError(fmt::format("{}: forward is not implemented (override Module::forward)", type_name()));
}

Tensor Module::operator()(const Tensor& input) {
  if (pre_hooks_.empty() && hooks_.empty()) return forward(input);
  // Copies: a hook may remove itself.
  for (const auto& [id, hook] : std::vector(pre_hooks_)) hook(*this, input);
  Tensor output = forward(input);
  for (const auto& [id, hook] : std::vector(hooks_)) hook(*this, input, output);
  return output;
}

namespace {
std::size_t next_hook_id() {
  static std::atomic<std::size_t> counter{0};
  return ++counter;
}
}  // namespace

std::size_t Module::register_forward_pre_hook(ForwardPreHook hook) {
  const std::size_t id = next_hook_id();
  pre_hooks_.emplace_back(id, std::move(hook));
  return id;
}

std::size_t Module::register_forward_hook(ForwardHook hook) {
  const std::size_t id = next_hook_id();
  hooks_.emplace_back(id, std::move(hook));
  return id;
}

bool Module::remove_hook(std::size_t handle) {
  const auto pre = std::erase_if(pre_hooks_, [&](const auto& h) { return h.first == handle; });
  const auto post = std::erase_if(hooks_, [&](const auto& h) { return h.first == handle; });
  return pre + post > 0;
}

// --- registration ---------------------------------------------------------------------------------

void Module::check_new_name(const std::string& name, std::string_view what) const {
  DESCENT_CHECK_VALUE(!name.empty(), "{}: {} name must not be empty", type_name(), what);
  DESCENT_CHECK_VALUE(name.find('.') == std::string::npos, "{}: {} name \"{}\" must not contain '.'", type_name(),
                      what, name);
  const auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& item) { return item.first == name; });
  };
  DESCENT_CHECK_VALUE(!taken(parameters_) && !taken(buffers_) && !taken(children_),
                      "{}: cannot register {} \"{}\": the name is already taken", type_name(), what, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  if (tensor.defined()) {
    DESCENT_CHECK_VALUE(tensor.grad_fn() == nullptr,
                        "{}: parameter \"{}\" must be a leaf tensor (it has a grad_fn); pass tensor.detach()",
                        type_name(), name);
    DESCENT_CHECK_DTYPE(is_floating(tensor.dtype()), "{}: parameter \"{}\" must be floating, got {}", type_name(),
                        name, dtype_name(tensor.dtype()));
    tensor.requires_grad_(requires_grad);
  }
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "buffer");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "module");
  DESCENT_CHECK_VALUE(module != nullptr, "{}: cannot register module \"{}\": it is null", type_name(), name);
  DESCENT_CHECK_VALUE(module.get() != this, "{}: cannot register a module as its own child", type_name());
  children_.emplace_back(name, std::move(module));
}

// --- access ---------------------------------------------------------------------------------------

void Module::collect(const std::string& prefix, bool recurse, bool buffers, bool skip_duplicates,
                     std::vector<std::pair<std::string, Tensor>>& out, std::vector<const TensorImpl*>& seen) const {
  for (const auto& [name, t] : buffers ? buffers_ : parameters_) {
    if (!t.defined()) continue;
    if (skip_duplicates) {
      if (std::find(seen.begin(), seen.end(), t.impl()) != seen.end()) continue;
      seen.push_back(t.impl());
    }
    out.emplace_back(prefix + name, t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", true, buffers, skip_duplicates, out, seen);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<const TensorImpl*> seen;
  collect("", recurse, false, true, out, seen);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::vector<const TensorImpl*> seen;
  collect("", recurse, true, true, out, seen);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::set<const Module*> seen;
  // Iterative pre-order walk (children pushed in reverse so the first child comes out first).
  std::vector<std::pair<std::string, Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [name, module] = stack.back();
    stack.pop_back();
    if (!seen.insert(module).second) continue;
    out.emplace_back(name, module);
    for (auto it = module->children_.rbegin(); it != module->children_.rend(); ++it) {
      stack.emplace_back(name.empty() ? it->first : name + "." + it->first, it->second.get());
    }
  }
  return out;
}

// --- modes and state ------------------------------------------------------------------------------

Module& Module::train(bool on) {
  for (auto& [name, module] : named_modules()) module->training_ = on;
  return *this;
}

void Module::zero_grad(bool set_to_none) {
  for (const Tensor& p : parameters()) {
    if (!p.grad().defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      detail::assign(p.grad(), scalar_tensor(0.0, p.grad().dtype()));
    }
  }
}

StateDict Module::state_dict() const {
  // PyTorch's order: a module's parameters, then its buffers, then each child's entries.
  StateDict out;
  struct Walk {
    static void run(const Module& m, const std::string& prefix, StateDict& out) {
      for (const auto& [name, t] : m.parameters_) {
        if (t.defined()) out.insert(prefix + name, t.detach());
      }
      for (const auto& [name, t] : m.buffers_) {
        if (t.defined()) out.insert(prefix + name, t.detach());
      }
      for (const auto& [name, child] : m.children_) run(*child, prefix + name + ".", out);
    }
  };
  Walk::run(*this, "", out);
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  const StateDict own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  std::vector<std::pair<Tensor, Tensor>> copies;
  for (const auto& [key, target] : own) {
    const Tensor* source = state.find(key);
    if (source == nullptr) {
      missing.push_back(key);
      continue;
    }
    if (!source->defined()) {
      mismatched.push_back(fmt::format("value for {} is an undefined tensor", key));
      continue;
    }
    if (source->shape() != target.shape()) {
      mismatched.push_back(fmt::format(
          "size mismatch for {}: copying a tensor with shape {} from the state dict, the shape in the current model is {}",
          key, source->shape(), target.shape()));
      continue;
    }
    copies.emplace_back(target, *source);
  }
  for (const auto& [key, value] : state) {
    if (!own.contains(key)) unexpected.push_back(key);
  }
  const auto quoted = [](const std::vector<std::string>& keys) {
    std::string s;
    for (std::size_t i = 0; i < keys.size(); ++i) s += (i > 0 ? ", \"" : "\"") + keys[i] + "\"";
    return s;
  };
  std::string problems;
  if (strict && !missing.empty()) problems += "\n  Missing key(s) in state_dict: " + quoted(missing) + ".";
  if (strict && !unexpected.empty()) problems += "\n  Unexpected key(s) in state_dict: " + quoted(unexpected) + ".";
  for (const std::string& m : mismatched) problems += "\n  " + m + ".";
  DESCENT_CHECK_VALUE(problems.empty(), "load_state_dict: Error(s) in loading state_dict for {}:{}", type_name(),
                      problems);
  NoGradGuard no_grad;
  for (const auto& [target, source] : copies) detail::assign(target, source);
}

Module& Module::to(DType dtype) {
  DESCENT_CHECK_DTYPE(is_floating(dtype), "{}.to: expected a floating dtype, got {}", type_name(), dtype_name(dtype));
  std::vector<const TensorImpl*> done;  // a shared tensor is converted once
  for (auto& [name, module] : named_modules()) {
    for (auto* list : {&module->parameters_, &module->buffers_}) {
      for (auto& [pname, t] : *list) {
        if (!t.defined() || std::find(done.begin(), done.end(), t.impl()) != done.end()) continue;
        done.push_back(t.impl());
        detail::convert_in_place(t, dtype);
      }
    }
  }
  return *this;
}

// --- description ----------------------------------------------------------------------------------

std::string Module::type_name() const {
  const char* mangled = typeid(*this).name();
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  // Drop the namespaces (before any template arguments): "descent::nn::Linear" -> "Linear".
  const std::size_t angle = name.find('<');
  const std::size_t colon = name.rfind("::", angle);
  if (colon != std::string::npos) name = name.substr(colon + 2);
  return name;
}

std::string Module::name() const { return type_name() + "(" + extra_repr() + ")"; }

void Module::print_tree(std::string& out, int indent) const {
  if (children_.empty()) {
    out += name();
    return;
  }
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  out += type_name() + "(\n";
  const std::string extra = extra_repr();
  if (!extra.empty()) out += pad + extra + "\n";
  for (const auto& [child_name, child] : children_) {
    out += pad + "(" + child_name + "): ";
    child->print_tree(out, indent + 2);
    out += "\n";
  }
  out += std::string(static_cast<std::size_t>(indent), ' ') + ")";
}

std::string Module::to_string() const {
  std::string out;
  print_tree(out, 0);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.to_string(); }

}  // namespace descent::nn
