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

void print_dim(std::ostringstream& os, const Tensor& t, const std::vector<double>& values, std::size_t d,
               std::int64_t base, bool summarize, int indent) {
  const Shape& shape = t.shape();
  const std::int64_t n = shape[d];
  std::int64_t inner = 1;
  for (std::size_t k = d + 1; k < shape.size(); ++k) inner *= shape[k];
  os << '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << "...";
      i = n - kEdgeItems - 1;
      os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    if (d + 1 == shape.size()) {
      const double v = values[base + i];
      if (t.dtype() == kInt64) {
        os << static_cast<std::int64_t>(v);
      } else {
        os << fmt::format("{:.4f}", v);
      }
    } else {
      print_dim(os, t, values, d + 1, base + i * inner, summarize, indent + 1);
    }
    if (i + 1 < n) os << (d + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << ']';
}
}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  const std::vector<double> values = to_vector<double>();
  std::ostringstream os;
  os << "tensor(";
  if (dim() == 0) {
    os << (dtype() == kInt64 ? fmt::format("{}", static_cast<std::int64_t>(values[0]))
                             : fmt::format("{:.4f}", values[0]));
  } else {
    print_dim(os, *this, values, 0, 0, numel() > kSummarize, 7);
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
