// Printing in PyTorch's layout: tensor([[1.0000, 2.0000], [3.0000, 4.0000]], dtype=float64).

#include <ostream>
#include <sstream>

#include "descent/core/tensor.h"
#include "descent/autograd/node.h"
#include "internal/check.h"

namespace descent {

namespace {
constexpr std::int64_t kEdgeItems = 3;   // elements shown at each end of a long dimension
constexpr std::int64_t kSummarize = 1000;  // tensors larger than this are summarized with "..."

// One element: int64 exactly as an integer, floating values with 4 decimals.
void print_value(std::ostringstream& os, std::int64_t v) { os << v; }
void print_value(std::ostringstream& os, double v) { os << fmt::format("{:.4f}", v); }

// V is std::int64_t for int64 tensors (printed exactly, beyond 2^53 too) and double otherwise.
template <typename V>
void print_dim(std::ostringstream& os, const Tensor& t, const std::vector<V>& values, std::size_t d,
               std::int64_t base, bool summarize, int indent) {
  const Shape& shape = t.shape();
  // PyTorch's separator: ", " between numbers; between sub-tensors a comma, one newline per
  // dimension below (an empty line between the matrices of a 3-D tensor), and the indent.
  std::string separator = ",";
  if (d + 1 == shape.size()) {
    separator += ' ';
  } else {
    separator.append(shape.size() - d - 1, '\n');
    separator.append(static_cast<std::size_t>(indent) + 1, ' ');
  }
  const std::int64_t n = shape[d];
  std::int64_t inner = 1;
  for (std::size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  os << '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << "..." << separator;
      i = n - kEdgeItems - 1;
      continue;
    }
    if (d + 1 == shape.size()) {
      print_value(os, values[base + i]);
    } else {
      print_dim(os, t, values, d + 1, base + i * inner, summarize, indent + 1);
    }
    if (i + 1 < n) os << separator;
  }
  os << ']';
}
}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  auto print_values = [&](const auto& values) {
    if (dim() == 0) {
      print_value(os, values[0]);
    } else {
      print_dim(os, *this, values, 0, 0, numel() > kSummarize, 7);
    }
  };
  if (dtype() == kInt64) {
    print_values(to_vector<std::int64_t>());
  } else {
    print_values(to_vector<double>());
  }
  if (dim() > 0 && numel() > kSummarize) os << ", shape=" << fmt::format("{}", shape());
  os << ", dtype=" << dtype_name(dtype());
  if (grad_fn()) {
    os << ", grad_fn=<" << grad_fn()->name() << ">";
  } else if (requires_grad()) {
    os << ", requires_grad=True";
  }
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) { return os << tensor.to_string(); }

}  // namespace descent
