#include "descent/core/shape.h"

#include "internal/check.h"

namespace descent {

std::string to_string(const Shape& shape) { return fmt::format("{}", shape); }

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= std::max<std::int64_t>(shape[d], 1);
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
  if (a == b) return a;
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    DESCENT_CHECK_SHAPE(da == db || da == 1 || db == 1,
                        "{}: shapes {} and {} cannot be broadcast together (dimension {}: {} vs {})", op,
                        a, b, i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, std::string_view op) {
  const std::int64_t extent = std::max<std::int64_t>(ndim, 1);  // a scalar accepts dim 0 and -1
  DESCENT_CHECK_INDEX(dim >= -extent && dim < extent,
                      "{}: dimension {} out of range for a tensor of {} dimensions (expected [{}, {}])", op,
                      dim, ndim, -extent, extent - 1);
  return dim < 0 ? dim + extent : dim;
}

}  // namespace descent
