#pragma once
// A cost function f(x, y) written as text, for `descent descend --expr`:
//
//   auto f = Expression::parse("(1-x)^2 + 100*(y-x^2)^2");
//   Tensor loss = f(p.select(0, 0), p.select(0, 1));   // records the autograd graph
//   loss.backward();                                    // p.grad() = [df/dx, df/dy]
//
// Grammar (a small recursive-descent parser; ^ binds tightest and is right-associative, so
// -x^2 = -(x^2) and 2^3^2 = 2^9; ** is accepted for ^):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := primary ('^' unary)?
//   primary := number | x | y | pi | e | function '(' expr ')' | '(' expr ')'
//   function: sin cos tan exp log sqrt tanh abs
// The tree is evaluated with descent's differentiable ops on tensors of any (broadcastable) shapes,
// so the same expression gives the loss of a [2] parameter and the values of a whole grid.

#include <memory>
#include <string>
#include <string_view>

#include "descent/core/tensor.h"

namespace descent::cli {

class Expression {
 public:
  /// Parses `text`; throws ValueError naming the position (1-based) of a syntax error or an
  /// unknown name, with the text and a caret under the position. An expression that uses neither
  /// x nor y is rejected too: it has no gradient to descend.
  static Expression parse(std::string_view text);

  /// f(x, y) elementwise over the broadcast shape of x and y (floating tensors of one dtype).
  Tensor operator()(const Tensor& x, const Tensor& y) const;

  const std::string& text() const { return text_; }

  struct Node;  // the parse tree (expression.cpp)

 private:
  Expression(std::string text, std::shared_ptr<const Node> root) : text_(std::move(text)), root_(std::move(root)) {}
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace descent::cli
