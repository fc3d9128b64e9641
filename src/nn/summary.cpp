// Module::summary: a Keras-style table built from one forward pass on zeros, observed by hooks.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "descent/autograd/grad_mode.h"
#include "descent/nn/module.h"
#include "internal/check.h"

namespace descent::nn {

namespace {

// 1234567 -> "1,234,567"
std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::int64_t count(const std::vector<Tensor>& tensors) {
  std::int64_t n = 0;
  for (const Tensor& t : tensors) n += t.numel();
  return n;
}

struct Row {
  std::string layer;  // "0 (Linear)"
  std::string shape;  // filled when the call returns
  std::string params;
  bool shown = true;
};

}  // namespace

std::string Module::summary(const Shape& input_shape, std::optional<DType> dtype) {
  DType input_dtype = kFloat32;
  if (dtype) {
    input_dtype = *dtype;
  } else {
    for (const Tensor& p : parameters()) {
      if (is_floating(p.dtype())) {
        input_dtype = p.dtype();
        break;
      }
    }
  }
  DESCENT_CHECK_DTYPE(is_floating(input_dtype), "{}.summary: the input dtype must be floating, got {}", type_name(),
                      dtype_name(input_dtype));

  std::vector<Row> rows;
  std::vector<std::size_t> open;  // rows whose call has not returned yet
  {
    // Restores every module's training flag and removes the hooks, even when forward throws.
    // (A local class has the member function's access to training_.)
    struct Scope {
      std::vector<std::pair<Module*, bool>> modes;
      std::vector<std::pair<Module*, std::size_t>> hooks;
      ~Scope() {
        for (auto& [module, id] : hooks) module->remove_hook(id);
        for (auto& [module, training] : modes) module->training_ = training;
      }
    } scope;
    for (const auto& [name, module] : named_modules()) {
      scope.modes.emplace_back(module, module->training_);
      module->training_ = false;
      const bool root = module == this;
      const bool container = !module->children_.empty();
      const std::int64_t own = count(module->parameters(false));
      Row row{root ? type_name() : name + " (" + module->type_name() + ")", "",
              container && own == 0 ? "--" : with_commas(own), !(root && container && own == 0)};
      scope.hooks.emplace_back(module, module->register_forward_pre_hook([&rows, &open, row](Module&, const Tensor&) {
        open.push_back(rows.size());
        rows.push_back(row);
      }));
      scope.hooks.emplace_back(module, module->register_forward_hook([&rows, &open](Module&, const Tensor&, const Tensor& out) {
        rows[open.back()].shape = descent::to_string(out.shape());
        open.pop_back();
      }));
    }
    NoGradGuard no_grad;
    (*this)(zeros(input_shape, input_dtype));
  }

  const std::vector<Tensor> params = parameters();
  std::int64_t trainable = 0;
  for (const Tensor& p : params) {
    if (p.requires_grad()) trainable += p.numel();
  }
  const std::int64_t total = count(params);
  const std::int64_t buffer_elements = count(buffers());

  std::size_t w0 = std::string("Layer (type)").size(), w1 = std::string("Output shape").size(),
              w2 = std::string("Param #").size();
  for (const Row& r : rows) {
    if (!r.shown) continue;
    w0 = std::max(w0, r.layer.size());
    w1 = std::max(w1, r.shape.size());
    w2 = std::max(w2, r.params.size());
  }
  const auto line = [&](const std::string& a, const std::string& b, const std::string& c) {
    std::string s = a + std::string(w0 + 3 - a.size(), ' ') + b + std::string(w1 + 3 - b.size(), ' ') +
                    std::string(w2 - c.size(), ' ') + c;
    return s + "\n";
  };
  const std::size_t width = w0 + 3 + w1 + 3 + w2;
  const std::string rule(width, '='), thin(width, '-');

  std::string out = "Model: " + type_name() + ", input " + descent::to_string(input_shape) + " (" +
                    std::string(dtype_name(input_dtype)) + ")\n";
  out += rule + "\n" + line("Layer (type)", "Output shape", "Param #") + rule + "\n";
  for (const Row& r : rows) {
    if (r.shown) out += line(r.layer, r.shape, r.params);
  }
  out += rule + "\n";
  out += "Total params: " + with_commas(total) + "\n";
  out += "Trainable params: " + with_commas(trainable) + "\n";
  out += "Non-trainable params: " + with_commas(total - trainable) + "\n";
  if (buffer_elements > 0) out += "Buffer elements: " + with_commas(buffer_elements) + "\n";
  out += thin + "\n";
  return out;
}

}  // namespace descent::nn
