#include "descent/nn/sequential.h"

#include <string>

#include "internal/check.h"

namespace descent::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) push_back(std::move(m));
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> Sequential::ptr(std::size_t i) const {
  DESCENT_CHECK_INDEX(i < size(), "Sequential: index {} out of range for {} modules", i, size());
  return named_children()[i].second;
}

Module& Sequential::operator[](std::size_t i) const { return *ptr(i); }

void Sequential::throw_wrong_type(std::size_t i) const {
  throw ValueError(fmt::format("Sequential: module {} is a {}, not the requested type", i, (*this)[i].type_name()));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& [name, module] : named_children()) x = (*module)(x);
  return x;
}

}  // namespace descent::nn
