#include "expression.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "descent/core/error.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"

namespace descent::cli {

// --- the parse tree ----------------------------------------------------------------------------------

struct Expression::Node {
  enum class Kind { Number, X, Y, Neg, Add, Sub, Mul, Div, Pow, Call };
  Kind kind = Kind::Number;
  double number = 0;
  std::string function;  // for Call
  int height = 1;        // of the subtree
  std::shared_ptr<const Node> a, b;
};

namespace {

using Node = Expression::Node;
using Kind = Node::Kind;

constexpr std::array<std::string_view, 8> kFunctions = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs"};
constexpr int kMaxDepth = 200;  // nesting deeper than any sensible formula; keeps the recursion bounded

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::shared_ptr<const Node> parse() {
    auto root = expr();
    skip_space();
    if (pos_ < text_.size()) {
      const char c = text_[pos_];
      const bool operand = std::isalnum(static_cast<unsigned char>(c)) || c == '(' || c == '.';
      fail(pos_, fmt::format("unexpected '{}'", c), operand ? "(a missing operator? write 2*x, not 2x)" : "");
    }
    return root;
  }

  bool uses_xy() const { return uses_xy_; }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what, const std::string& hint = "") const {
    // The message, then the text with a caret under the position.
    throw ValueError(fmt::format("expression: {} at position {}{}\n  {}\n  {}^", what, at + 1, hint.empty() ? "" : " " + hint, text_,
                                 std::string(at, ' ')));
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  // Consumes `token` (after spaces) if it comes next.
  bool accept(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  bool accept_power() {
    skip_space();
    return accept("^") || accept("**");
  }

  // Evaluation recurses over the tree, so its height is bounded too (a chain of a thousand '+' is
  // left-deep without any nesting in the text).
  std::shared_ptr<const Node> make(Kind kind, std::shared_ptr<const Node> a = nullptr, std::shared_ptr<const Node> b = nullptr) const {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->height = 1 + std::max(a ? a->height : 0, b ? b->height : 0);
    if (n->height > kMaxDepth) fail(pos_, fmt::format("expression too long: more than {} nested operations", kMaxDepth));
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }

  std::shared_ptr<const Node> expr() {
    if (++depth_ > kMaxDepth) fail(pos_, fmt::format("nesting deeper than {} levels", kMaxDepth));
    auto left = term();
    for (;;) {
      if (accept("+")) left = make(Kind::Add, left, term());
      else if (accept("-")) left = make(Kind::Sub, left, term());
      else break;
    }
    --depth_;
    return left;
  }

  std::shared_ptr<const Node> term() {
    auto left = unary();
    for (;;) {
      if (accept("*")) left = make(Kind::Mul, left, unary());
      else if (accept("/")) left = make(Kind::Div, left, unary());
      else break;
    }
    return left;
  }

  std::shared_ptr<const Node> unary() {
    if (++depth_ > kMaxDepth) fail(pos_, fmt::format("nesting deeper than {} levels", kMaxDepth));
    std::shared_ptr<const Node> result;
    if (accept("-")) result = make(Kind::Neg, unary());
    else if (accept("+")) result = unary();
    else result = power();
    --depth_;
    return result;
  }

  std::shared_ptr<const Node> power() {
    auto base = primary();
    if (accept_power()) return make(Kind::Pow, base, unary());  // the exponent may be signed: x^-1
    return base;
  }

  std::shared_ptr<const Node> primary() {
    skip_space();
    if (pos_ >= text_.size()) fail(pos_, "expected a number, x, y, a function or '(' but the expression ends");
    const char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name();
    if (accept("(")) {
      const std::size_t open = pos_ - 1;
      auto inner = expr();
      if (!accept(")")) fail(pos_ < text_.size() ? pos_ : open, pos_ < text_.size() ? "expected ')'" : "unclosed '('");
      return inner;
    }
    fail(pos_, fmt::format("unexpected '{}'", c));
  }

  std::shared_ptr<const Node> number() {
    // digits [. digits] [e [+-] digits]; from_chars does the conversion, after we find the extent
    // (so that "2e" is not taken for an incomplete exponent: e is then a name, and an error).
    const std::size_t start = pos_;
    auto digits = [&] {
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    };
    digits();
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      digits();
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (p < text_.size() && std::isdigit(static_cast<unsigned char>(text_[p]))) {
        pos_ = p;
        digits();
      }
    }
    double v = 0;
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, v);
    if (ec != std::errc() || end != text_.data() + pos_) fail(start, fmt::format("bad number '{}'", text_.substr(start, pos_ - start)));
    auto n = std::make_shared<Node>();
    n->number = v;
    return n;
  }

  std::shared_ptr<const Node> name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    const std::string id(text_.substr(start, pos_ - start));
    if (id == "x" || id == "y") {
      uses_xy_ = true;
      return make(id == "x" ? Kind::X : Kind::Y);
    }
    if (id == "pi" || id == "e") {
      auto n = std::make_shared<Node>();
      n->number = id == "pi" ? std::numbers::pi : std::numbers::e;
      return n;
    }
    for (std::string_view f : kFunctions)
      if (id == f) {
        if (!accept("(")) fail(pos_, fmt::format("expected '(' after the function '{}'", id));
        auto arg = expr();
        if (!accept(")")) fail(pos_, fmt::format("expected ')' to close '{}('", id));
        auto n = std::const_pointer_cast<Node>(make(Kind::Call, std::move(arg)));
        n->function = id;
        return n;
      }
    fail(start, fmt::format("unknown name '{}'", id), "(known: x, y, pi, e, sin, cos, tan, exp, log, sqrt, tanh, abs)");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  bool uses_xy_ = false;
};

// A value during evaluation: a tensor, or a plain number while nothing depends on x or y (so
// constants fold and scalars use the ops' double overloads).
struct Value {
  Tensor t = {};
  double c = 0;
  bool is_tensor() const { return t.defined(); }
};

Tensor call(const std::string& f, const Tensor& v) {
  if (f == "sin") return sin(v);
  if (f == "cos") return cos(v);
  if (f == "tan") return div(sin(v), cos(v));
  if (f == "exp") return exp(v);
  if (f == "log") return log(v);
  if (f == "sqrt") return sqrt(v);
  if (f == "tanh") return tanh(v);
  return abs(v);
}

double call(const std::string& f, double v) {
  if (f == "sin") return std::sin(v);
  if (f == "cos") return std::cos(v);
  if (f == "tan") return std::tan(v);
  if (f == "exp") return std::exp(v);
  if (f == "log") return std::log(v);
  if (f == "sqrt") return std::sqrt(v);
  if (f == "tanh") return std::tanh(v);
  return std::fabs(v);
}

// Recursion depth: the tree's height, which the parser bounds by kMaxDepth.
Value evaluate(const Node& n, const Tensor& x, const Tensor& y) {
  switch (n.kind) {
    case Kind::Number: return {.c = n.number};
    case Kind::X: return {.t = x};
    case Kind::Y: return {.t = y};
    case Kind::Neg: {
      Value a = evaluate(*n.a, x, y);
      return a.is_tensor() ? Value{.t = neg(a.t)} : Value{.c = -a.c};
    }
    case Kind::Call: {
      Value a = evaluate(*n.a, x, y);
      return a.is_tensor() ? Value{.t = call(n.function, a.t)} : Value{.c = call(n.function, a.c)};
    }
    default: break;
  }
  const Value a = evaluate(*n.a, x, y), b = evaluate(*n.b, x, y);
  if (!a.is_tensor() && !b.is_tensor()) {
    switch (n.kind) {
      case Kind::Add: return {.c = a.c + b.c};
      case Kind::Sub: return {.c = a.c - b.c};
      case Kind::Mul: return {.c = a.c * b.c};
      case Kind::Div: return {.c = a.c / b.c};
      default: return {.c = std::pow(a.c, b.c)};
    }
  }
  if (n.kind == Kind::Pow) {
    if (!b.is_tensor()) return {.t = pow(a.t, b.c)};
    return {.t = pow(a.is_tensor() ? a.t : full_like(b.t, a.c), b.t)};
  }
  auto op = [&](const auto& l, const auto& r) -> Tensor {
    switch (n.kind) {
      case Kind::Add: return l + r;
      case Kind::Sub: return l - r;
      case Kind::Mul: return l * r;
      default: return l / r;
    }
  };
  if (!a.is_tensor()) return {.t = op(a.c, b.t)};
  if (!b.is_tensor()) return {.t = op(a.t, b.c)};
  return {.t = op(a.t, b.t)};
}

}  // namespace

Expression Expression::parse(std::string_view text) {
  Parser parser(text);
  auto root = parser.parse();
  if (!parser.uses_xy())
    throw ValueError(fmt::format("expression: \"{}\" uses neither x nor y: a constant has no gradient to descend", text));
  return Expression(std::string(text), std::move(root));
}

Tensor Expression::operator()(const Tensor& x, const Tensor& y) const { return evaluate(*root_, x, y).t; }

}  // namespace descent::cli
