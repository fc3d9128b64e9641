// The tensor core: creation, dtypes, views' metadata, element access, printing, errors.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <descent/descent.h>

using namespace descent;

namespace {

using Doubles = std::vector<double>;
using Ints = std::vector<std::int64_t>;

// Runs `f` and returns the message of the descent::Error it throws (fails the test if none).
template <typename ErrorT, typename F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const ErrorT& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a different exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

// ---- creation --------------------------------------------------------------------------------

TEST(TensorCreation, ZerosOnesFull) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.dim(), 2);
  EXPECT_EQ(z.to_vector<double>(), Doubles(6, 0.0));

  Tensor o = ones({4}, kFloat64);
  EXPECT_EQ(o.dtype(), kFloat64);
  EXPECT_EQ(o.to_vector<double>(), Doubles(4, 1.0));

  Tensor f = full({2, 2}, 2.5, kFloat64);
  EXPECT_EQ(f.to_vector<double>(), Doubles(4, 2.5));

  Tensor fi = full({3}, 7, kInt64);
  EXPECT_EQ(fi.dtype(), kInt64);
  EXPECT_EQ(fi.to_vector<std::int64_t>(), Ints(3, 7));

  // Scalar shape [] has one element; a zero-size dimension has none.
  EXPECT_EQ(zeros({}).numel(), 1);
  EXPECT_EQ(zeros({}).dim(), 0);
  Tensor e = zeros({0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.to_vector<double>().empty());
}

TEST(TensorCreation, Like) {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  Tensor z = zeros_like(x);
  EXPECT_EQ(z.shape(), x.shape());
  EXPECT_EQ(z.dtype(), kFloat64);
  EXPECT_EQ(z.to_vector<double>(), Doubles(6, 0.0));
  EXPECT_EQ(ones_like(x).to_vector<double>(), Doubles(6, 1.0));
  EXPECT_EQ(full_like(x, -3).to_vector<double>(), Doubles(6, -3.0));
  EXPECT_EQ(zeros_like(tensor_int64({1, 2}, {2})).dtype(), kInt64);
}

TEST(TensorCreation, Arange) {
  EXPECT_EQ(arange(5).to_vector<double>(), (Doubles{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(5).dtype(), kFloat32);
  EXPECT_EQ(arange(2, 8, 2).to_vector<double>(), (Doubles{2, 4, 6}));
  EXPECT_EQ(arange(2, 9, 2).to_vector<double>(), (Doubles{2, 4, 6, 8}));
  EXPECT_EQ(arange(5, 0, -2).to_vector<double>(), (Doubles{5, 3, 1}));
  EXPECT_EQ(arange(3, kInt64).to_vector<std::int64_t>(), (Ints{0, 1, 2}));
  EXPECT_EQ(arange(3, kInt64).dtype(), kInt64);
}

TEST(TensorCreation, ArangeFractionalStep) {
  // torch.arange(0, 1, 0.25) -> [0, 0.25, 0.5, 0.75]; the end is excluded.
  EXPECT_EQ(arange(0, 1, 0.25, kFloat64).to_vector<double>(), (Doubles{0, 0.25, 0.5, 0.75}));
  // ceil((end - start) / step) elements: 0.3 / 0.1 = 2.9999999999999996 -> 3 elements, as in PyTorch.
  Tensor t = arange(0, 0.3, 0.1, kFloat64);
  ASSERT_EQ(t.shape(), (Shape{3}));
  EXPECT_DOUBLE_EQ(t.flat(1), 0.1);
  EXPECT_DOUBLE_EQ(t.flat(2), 0.2);
  // torch.arange(1, 2.5, 0.5) -> [1.0, 1.5, 2.0]
  EXPECT_EQ(arange(1, 2.5, 0.5).to_vector<double>(), (Doubles{1.0, 1.5, 2.0}));
  // 10 elements: (1 - 0) / 0.1 == 10 exactly in double.
  EXPECT_EQ(arange(0, 1, 0.1).numel(), 10);
}

TEST(TensorCreation, ArangeEmptyAndInvalid) {
  Tensor e = arange(0);
  EXPECT_EQ(e.shape(), (Shape{0}));
  EXPECT_EQ(arange(3, 3).shape(), (Shape{0}));
  EXPECT_EQ(arange(2.5, 2.5, 0.5, kFloat64).shape(), (Shape{0}));
  EXPECT_THROW(arange(0, 5, 0), ValueError);
  // PyTorch: "upper bound and larger bound inconsistent with step sign".
  EXPECT_THROW(arange(5, 0, 1), ValueError);
  EXPECT_THROW(arange(0, 5, -1), ValueError);
  EXPECT_THROW(arange(0, std::numeric_limits<double>::infinity()), ValueError);
  EXPECT_THROW(arange(0, std::numeric_limits<double>::quiet_NaN()), ValueError);
}

TEST(TensorCreation, FromValues) {
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), kFloat32);
  EXPECT_EQ(t.to_vector<double>(), (Doubles{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(t.at({1, 0}), 4.0);
  // float32 storage rounds.
  EXPECT_EQ(tensor({0.1}, {1}).item(), static_cast<double>(0.1f));
  EXPECT_EQ(tensor({0.1}, {1}, kFloat64).item(), 0.1);
  // Into int64 (truncation, as a C++ conversion).
  EXPECT_EQ(tensor({1, 2, 3}, {3}, kInt64).to_vector<std::int64_t>(), (Ints{1, 2, 3}));
  // An empty tensor from no values.
  EXPECT_EQ(tensor({}, {0}).numel(), 0);
  EXPECT_EQ(tensor({}, {2, 0}).shape(), (Shape{2, 0}));
}

TEST(TensorCreation, FromValuesCountMismatch) {
  const std::string msg = error_message<ShapeError>([] { tensor({1, 2, 3}, {2, 2}); });
  EXPECT_NE(msg.find("3 values"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 2]"), std::string::npos) << msg;
  EXPECT_THROW(tensor({1, 2, 3, 4, 5}, {2, 2}), ShapeError);
  EXPECT_NO_THROW(tensor({1}, {}, kFloat64));
}

TEST(TensorCreation, Int64) {
  Tensor t = tensor_int64({3, -1, 4, 1 << 20}, {2, 2});
  EXPECT_EQ(t.dtype(), kInt64);
  EXPECT_EQ(t.to_vector<std::int64_t>(), (Ints{3, -1, 4, 1 << 20}));
  EXPECT_EQ(t.at({0, 1}), -1.0);
  EXPECT_FALSE(is_floating(t.dtype()));
  // Values beyond 2^53 survive exactly (no trip through double).
  const std::int64_t big = (std::int64_t{1} << 53) + 1;
  EXPECT_EQ(tensor_int64({big}, {1}).to_vector<std::int64_t>()[0], big);
  EXPECT_THROW(tensor_int64({1, 2, 3}, {2}), ShapeError);
}

TEST(TensorCreation, ScalarTensor) {
  Tensor s = scalar_tensor(3.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.dtype(), kFloat32);
  EXPECT_EQ(s.item(), 3.5);
  EXPECT_TRUE(s.strides().empty());
  EXPECT_TRUE(s.is_contiguous());
  EXPECT_EQ(scalar_tensor(-2, kInt64).item(), -2.0);
  EXPECT_EQ(scalar_tensor(0.1, kFloat64).item(), 0.1);
  EXPECT_EQ(s.at({}), 3.5);
}

TEST(TensorCreation, EmptyNegativeDimension) {
  const std::string msg = error_message<ValueError>([] { empty({2, -1}); });
  EXPECT_NE(msg.find("[2, -1]"), std::string::npos) << msg;
  EXPECT_THROW(zeros({-3}), ValueError);
  EXPECT_THROW(full({1, -2}, 1.0), ValueError);
  EXPECT_THROW(tensor({}, {-1}), ValueError);
  Tensor e = empty({2, 3}, kFloat64);
  EXPECT_EQ(e.shape(), (Shape{2, 3}));
  EXPECT_EQ(e.dtype(), kFloat64);
  EXPECT_TRUE(e.is_contiguous());
}

// ---- dtypes ----------------------------------------------------------------------------------

TEST(TensorDType, NamesSizesAndTraits) {
  EXPECT_EQ(dtype_name(kFloat32), "float32");
  EXPECT_EQ(dtype_name(kFloat64), "float64");
  EXPECT_EQ(dtype_name(kInt64), "int64");
  EXPECT_EQ(element_size(kFloat32), 4u);
  EXPECT_EQ(element_size(kFloat64), 8u);
  EXPECT_EQ(element_size(kInt64), 8u);
  EXPECT_TRUE(is_floating(kFloat32));
  EXPECT_TRUE(is_floating(kFloat64));
  EXPECT_FALSE(is_floating(kInt64));
  static_assert(dtype_of<float>() == kFloat32);
  static_assert(dtype_of<double>() == kFloat64);
  static_assert(dtype_of<std::int64_t>() == kInt64);
}

TEST(TensorDType, DataPtrChecksDType) {
  Tensor t = tensor({1, 2}, {2}, kFloat64);
  EXPECT_EQ(t.data_ptr<double>()[1], 2.0);
  const std::string msg = error_message<DTypeError>([&] { t.data_ptr<float>(); });
  EXPECT_NE(msg.find("float64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
  EXPECT_THROW(t.data_ptr<std::int64_t>(), DTypeError);
  EXPECT_NO_THROW(tensor_int64({1}, {1}).data_ptr<std::int64_t>());
}

TEST(TensorDType, Conversions) {
  Tensor a = tensor({1.5, -2.25}, {2}, kFloat32);
  Tensor b = a.to(kFloat64);
  EXPECT_EQ(b.dtype(), kFloat64);
  EXPECT_EQ(b.to_vector<double>(), (Doubles{1.5, -2.25}));
  EXPECT_EQ(b.to(kFloat32).dtype(), kFloat32);
  // to_vector converts on the way out.
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(tensor({1.9, -1.9}, {2}, kFloat64).to_vector<std::int64_t>(), (Ints{1, -1}));
}

// ---- views: shape, strides, offset, contiguity -------------------------------------------------

TEST(TensorViews, ContiguousMetadata) {
  Tensor t = arange(24).reshape({2, 3, 4});
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Strides{12, 4, 1}));
  EXPECT_EQ(t.offset(), 0);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(-3), 2);
  EXPECT_THROW(t.size(3), IndexError);
  EXPECT_THROW(t.size(-4), IndexError);
  // A 0-dimensional tensor has no size to read (torch: "tensor has no dimensions").
  EXPECT_THROW(scalar_tensor(1).size(0), IndexError);
  EXPECT_THROW(scalar_tensor(1).size(-1), IndexError);
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Strides{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), Strides{});
}

TEST(TensorViews, TransposeSliceSelectExpand) {
  Tensor base = arange(12, kFloat64).reshape({3, 4});

  Tensor tr = base.t();
  EXPECT_EQ(tr.shape(), (Shape{4, 3}));
  EXPECT_EQ(tr.strides(), (Strides{1, 4}));
  EXPECT_EQ(tr.offset(), 0);
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(tr.impl()->storage, base.impl()->storage);

  Tensor sl = base.slice(1, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(sl.shape(), (Shape{3, 2}));
  EXPECT_EQ(sl.strides(), (Strides{4, 2}));
  EXPECT_EQ(sl.offset(), 1);
  EXPECT_FALSE(sl.is_contiguous());

  Tensor rows = base.slice(0, 1, 3);  // rows 1 and 2: still contiguous, offset 4
  EXPECT_EQ(rows.offset(), 4);
  EXPECT_TRUE(rows.is_contiguous());

  Tensor sel = base.select(1, 2);  // column 2
  EXPECT_EQ(sel.shape(), (Shape{3}));
  EXPECT_EQ(sel.strides(), (Strides{4}));
  EXPECT_EQ(sel.offset(), 2);
  EXPECT_FALSE(sel.is_contiguous());

  Tensor row = base.select(0, -1);  // last row
  EXPECT_EQ(row.offset(), 8);
  EXPECT_TRUE(row.is_contiguous());

  Tensor ex = tensor({1, 2, 3}, {3, 1}).expand({3, 4});
  EXPECT_EQ(ex.strides(), (Strides{1, 0}));
  EXPECT_FALSE(ex.is_contiguous());

  // A single column is not contiguous ([3, 1] with strides [4, 1]: elements 0, 4, 8) ...
  Tensor col = base.slice(1, 0, 1);
  EXPECT_EQ(col.strides(), (Strides{4, 1}));
  EXPECT_FALSE(col.is_contiguous());
  // ... but size-1 dims may have any stride and still be contiguous.
  Tensor one_row = base.slice(0, 1, 2);  // [1, 4], strides [4, 1], offset 4
  EXPECT_TRUE(one_row.is_contiguous());
  Tensor one_col = base.t().slice(0, 2, 3);  // [1, 3], strides [1, 4]: elements 2, 6, 10
  EXPECT_FALSE(one_col.is_contiguous());
  Tensor single = base.slice(0, 2, 3).slice(1, 3, 4);  // [1, 1]
  EXPECT_TRUE(single.is_contiguous());
  EXPECT_EQ(single.item(), 11.0);
  Tensor un = arange(3).unsqueeze(0);
  EXPECT_TRUE(un.is_contiguous());

  // A view of views composes offsets.
  Tensor sub = base.slice(0, 1, 3).slice(1, 1, 3);
  EXPECT_EQ(sub.offset(), 5);
  EXPECT_EQ(sub.to_vector<double>(), (Doubles{5, 6, 9, 10}));
}

TEST(TensorViews, EmptyTensorsAreContiguous) {
  // torch: a tensor without elements is contiguous whatever its strides.
  Tensor e = zeros({0, 3}).t();
  EXPECT_EQ(e.shape(), (Shape{3, 0}));
  EXPECT_TRUE(e.is_contiguous());
  EXPECT_TRUE(e.to_vector<double>().empty());
}

TEST(TensorViews, ContiguousAndClone) {
  Tensor base = arange(6, kFloat64).reshape({2, 3});
  EXPECT_TRUE(base.contiguous().is_same(base));
  Tensor tr = base.t();
  Tensor c = tr.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Strides{2, 1}));
  EXPECT_EQ(c.to_vector<double>(), (Doubles{0, 3, 1, 4, 2, 5}));
  EXPECT_NE(c.impl()->storage, base.impl()->storage);
  Tensor cl = base.clone();
  cl.set({0, 0}, 42);
  EXPECT_EQ(base.at({0, 0}), 0.0);
}

TEST(TensorViews, WritesThroughViewsReachTheBase) {
  Tensor base = zeros({2, 3}, kFloat64);
  base.t().set({2, 1}, 7.0);  // base[1][2]
  EXPECT_EQ(base.at({1, 2}), 7.0);
  base.select(0, 0).set_flat(1, 3.0);  // base[0][1]
  EXPECT_EQ(base.at({0, 1}), 3.0);
  Tensor copy = base;  // a handle, not a copy
  copy.set({0, 0}, -1.0);
  EXPECT_EQ(base.at({0, 0}), -1.0);
  EXPECT_TRUE(copy.is_same(base));
}

// ---- element access ------------------------------------------------------------------------------

TEST(TensorAccess, AtAndSet) {
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  EXPECT_EQ(t.at({0, 0}), 1.0);
  EXPECT_EQ(t.at({1, 2}), 6.0);
  t.set({1, 1}, -5.5);
  EXPECT_EQ(t.at({1, 1}), -5.5);
  EXPECT_THROW(t.at({2, 0}), IndexError);
  EXPECT_THROW(t.at({0, 3}), IndexError);
  EXPECT_THROW(t.at({0, -1}), IndexError);
  EXPECT_THROW(t.at({0}), IndexError);
  EXPECT_THROW(t.at({0, 0, 0}), IndexError);
  EXPECT_THROW(t.set({5, 0}, 1.0), IndexError);

  Tensor i = tensor_int64({10, 20}, {2});
  i.set({1}, 7.9);  // converted like a C++ cast
  EXPECT_EQ(i.at({1}), 7.0);
  Tensor f = zeros({1});
  f.set({0}, 0.1);
  EXPECT_EQ(f.at({0}), static_cast<double>(0.1f));
}

TEST(TensorAccess, FlatOnViews) {
  Tensor base = arange(6, kFloat64).reshape({2, 3});
  Tensor tr = base.t();  // [[0, 3], [1, 4], [2, 5]]
  EXPECT_EQ(tr.flat(0), 0.0);
  EXPECT_EQ(tr.flat(1), 3.0);
  EXPECT_EQ(tr.flat(4), 2.0);
  tr.set_flat(5, 50.0);
  EXPECT_EQ(base.at({1, 2}), 50.0);
  EXPECT_THROW(tr.flat(6), IndexError);
  EXPECT_THROW(tr.flat(-1), IndexError);
  EXPECT_THROW(tr.set_flat(6, 0.0), IndexError);
}

TEST(TensorAccess, Item) {
  EXPECT_EQ(tensor({2.5}, {1, 1}, kFloat64).item(), 2.5);
  EXPECT_EQ(scalar_tensor(4).item(), 4.0);
  // A one-element view at an offset.
  EXPECT_EQ(arange(10, kFloat64).slice(0, 7, 8).item(), 7.0);
  const std::string msg = error_message<ShapeError>([] { zeros({2, 3}).item(); });
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_THROW(zeros({0}).item(), Error);
}

TEST(TensorAccess, ToVectorOnNonContiguousViews) {
  Tensor base = arange(24, kFloat64).reshape({2, 3, 4});
  EXPECT_EQ(base.permute({2, 0, 1}).select(0, 1).to_vector<double>(), (Doubles{1, 5, 9, 13, 17, 21}));
  EXPECT_EQ(base.transpose(0, 2).slice(0, 0, 4, 3).to_vector<double>(),
            (Doubles{0, 12, 4, 16, 8, 20, 3, 15, 7, 19, 11, 23}));
  EXPECT_EQ(base.select(2, 3).slice(1, 0, 3, 2).to_vector<double>(), (Doubles{3, 11, 15, 23}));
  EXPECT_EQ(tensor({1, 2}, {2, 1}, kFloat64).expand({2, 3}).to_vector<double>(), (Doubles{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(arange(6, kInt64).reshape({2, 3}).t().to_vector<std::int64_t>(), (Ints{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(arange(6, kFloat64).reshape({2, 3}).t().to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

// ---- printing ------------------------------------------------------------------------------------

TEST(TensorPrint, ZeroDim) {
  EXPECT_EQ(scalar_tensor(1.5).to_string(), "tensor(1.5000, dtype=float32)");
  EXPECT_EQ(scalar_tensor(-2, kFloat64).to_string(), "tensor(-2.0000, dtype=float64)");
  EXPECT_EQ(scalar_tensor(7, kInt64).to_string(), "tensor(7, dtype=int64)");
}

TEST(TensorPrint, OneDim) {
  EXPECT_EQ(tensor({1, 2.5, -3}, {3}).to_string(), "tensor([1.0000, 2.5000, -3.0000], dtype=float32)");
  EXPECT_EQ(tensor({}, {0}).to_string(), "tensor([], dtype=float32)");
  EXPECT_EQ(tensor_int64({-1, 0, 42}, {3}).to_string(), "tensor([-1, 0, 42], dtype=int64)");
}

TEST(TensorPrint, TwoDim) {
  // PyTorch's layout: rows on their own lines, aligned under the first '['.
  EXPECT_EQ(tensor({1, 2, 3, 4}, {2, 2}, kFloat64).to_string(),
            "tensor([[1.0000, 2.0000],\n"
            "        [3.0000, 4.0000]], dtype=float64)");
  EXPECT_EQ(tensor_int64({1, 2, 3, 4, 5, 6}, {3, 2}).to_string(),
            "tensor([[1, 2],\n"
            "        [3, 4],\n"
            "        [5, 6]], dtype=int64)");
  // A non-contiguous view prints its logical order.
  EXPECT_EQ(tensor_int64({1, 2, 3, 4, 5, 6}, {3, 2}).t().to_string(),
            "tensor([[1, 3, 5],\n"
            "        [2, 4, 6]], dtype=int64)");
}

TEST(TensorPrint, ThreeDim) {
  // PyTorch separates the 2-D blocks of a 3-D tensor by an empty line.
  EXPECT_EQ(arange(8, kInt64).reshape({2, 2, 2}).to_string(),
            "tensor([[[0, 1],\n"
            "         [2, 3]],\n"
            "\n"
            "        [[4, 5],\n"
            "         [6, 7]]], dtype=int64)");
}

TEST(TensorPrint, Int64Exact) {
  const std::int64_t big = (std::int64_t{1} << 53) + 1;  // not representable as a double
  EXPECT_EQ(tensor_int64({big}, {1}).to_string(), "tensor([9007199254740993], dtype=int64)");
  EXPECT_EQ(tensor_int64({std::numeric_limits<std::int64_t>::min()}, {}).to_string(),
            "tensor(-9223372036854775808, dtype=int64)");
}

TEST(TensorPrint, LargeTensorIsSummarized) {
  const std::string s = arange(2000, kInt64).to_string();
  EXPECT_EQ(s, "tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000], dtype=int64)");

  // 2-D: both the rows and the columns are cut.
  const std::string m = arange(10000).reshape({100, 100}).to_string();
  EXPECT_NE(m.find("..."), std::string::npos);
  EXPECT_NE(m.find("shape=[100, 100]"), std::string::npos) << m;
  EXPECT_LT(m.size(), 1000u) << m;
  EXPECT_EQ(m.rfind("tensor([[0.0000, 1.0000, 2.0000, ..., 97.0000, 98.0000, 99.0000],", 0), 0u) << m;
  EXPECT_NE(m.find("[9900.0000, 9901.0000, 9902.0000, ..., 9997.0000, 9998.0000, 9999.0000]]"), std::string::npos)
      << m;

  // At the threshold (1000 elements) nothing is cut.
  const std::string full_text = arange(1000, kInt64).to_string();
  EXPECT_EQ(full_text.find("..."), std::string::npos);
  EXPECT_NE(full_text.find(", 500, "), std::string::npos);
}

TEST(TensorPrint, AutogradSuffixes) {
  Tensor x = tensor({1, 2}, {2});
  x.requires_grad_();
  EXPECT_EQ(x.to_string(), "tensor([1.0000, 2.0000], dtype=float32, requires_grad=True)");
  Tensor y = mul(x, 2.0);
  EXPECT_EQ(y.to_string(), "tensor([2.0000, 4.0000], dtype=float32, grad_fn=<mul>)");
  Tensor z = add(x, x);
  EXPECT_EQ(z.to_string(), "tensor([2.0000, 4.0000], dtype=float32, grad_fn=<add>)");
  EXPECT_EQ(y.detach().to_string(), "tensor([2.0000, 4.0000], dtype=float32)");
}

TEST(TensorPrint, StreamOperatorMatchesToString) {
  Tensor t = tensor({1, 2, 3, 4}, {2, 2});
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), t.to_string());
  std::ostringstream undefined;
  undefined << Tensor();
  EXPECT_EQ(undefined.str(), "tensor(undefined)");
}

// ---- undefined tensors and errors ----------------------------------------------------------------

TEST(TensorErrors, UndefinedTensorThrows) {
  Tensor u;
  EXPECT_FALSE(u.defined());
  EXPECT_TRUE(zeros({1}).defined());
  EXPECT_THROW(u.shape(), Error);
  EXPECT_THROW(u.strides(), Error);
  EXPECT_THROW(u.offset(), Error);
  EXPECT_THROW(u.dim(), Error);
  EXPECT_THROW(u.numel(), Error);
  EXPECT_THROW(u.dtype(), Error);
  EXPECT_THROW(u.size(0), Error);
  EXPECT_THROW(u.is_contiguous(), Error);
  EXPECT_THROW(u.item(), Error);
  EXPECT_THROW(u.at({0}), Error);
  EXPECT_THROW(u.flat(0), Error);
  EXPECT_THROW(u.set_flat(0, 1.0), Error);
  EXPECT_THROW(u.to_vector<double>(), Error);
  EXPECT_THROW(u.data_ptr<float>(), Error);
  EXPECT_THROW(u.requires_grad(), Error);
  EXPECT_THROW(u.requires_grad_(), Error);
  EXPECT_THROW(u.grad(), Error);
  EXPECT_THROW(u.backward(), Error);
  EXPECT_THROW(u.detach(), Error);
  EXPECT_THROW(u.clone(), Error);
  EXPECT_THROW(u.reshape({1}), Error);
  EXPECT_THROW(u.t(), Error);
  EXPECT_THROW(add(u, zeros({1})), Error);
  EXPECT_THROW(add(zeros({1}), u), Error);
  EXPECT_THROW(mul(u, 2.0), Error);
  EXPECT_THROW(sum(u), Error);
  EXPECT_THROW(zeros_like(u), Error);
  EXPECT_THROW(u.is_leaf(), Error);
}

TEST(TensorErrors, Hierarchy) {
  static_assert(std::is_base_of_v<std::runtime_error, Error>);
  static_assert(std::is_base_of_v<Error, ShapeError>);
  static_assert(std::is_base_of_v<Error, DTypeError>);
  static_assert(std::is_base_of_v<Error, IndexError>);
  static_assert(std::is_base_of_v<Error, AutogradError>);
  static_assert(std::is_base_of_v<Error, ValueError>);
  static_assert(std::is_base_of_v<Error, IOError>);
  // Catching descent::Error catches every kind, with the message intact.
  try {
    tensor({1, 2, 3}, {2});
    FAIL() << "did not throw";
  } catch (const Error& e) {
    EXPECT_NE(dynamic_cast<const ShapeError*>(&e), nullptr);
    EXPECT_NE(std::string(e.what()).find("tensor"), std::string::npos);
  }
  EXPECT_THROW(throw IOError("x"), Error);
  EXPECT_THROW(throw DTypeError("x"), std::runtime_error);
}

TEST(TensorShapeUtils, NumelToStringBroadcastNormalize) {
  EXPECT_EQ(numel({}), 1);
  EXPECT_EQ(numel({2, 3, 4}), 24);
  EXPECT_EQ(numel({2, 0}), 0);
  EXPECT_EQ(to_string(Shape{2, 3}), "[2, 3]");
  EXPECT_EQ(to_string(Shape{}), "[]");
  EXPECT_EQ(broadcast_shapes({3, 1}, {4}, "add"), (Shape{3, 4}));
  EXPECT_EQ(broadcast_shapes({}, {2, 2}, "add"), (Shape{2, 2}));
  EXPECT_EQ(broadcast_shapes({2, 1, 5}, {3, 1}, "add"), (Shape{2, 3, 5}));
  const std::string msg = error_message<ShapeError>([] { broadcast_shapes({2, 3}, {4}, "mul"); });
  EXPECT_NE(msg.find("mul"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_EQ(normalize_dim(-1, 3, "op"), 2);
  EXPECT_EQ(normalize_dim(0, 0, "op"), 0);
  EXPECT_EQ(normalize_dim(-1, 0, "op"), 0);
  EXPECT_THROW(normalize_dim(3, 3, "op"), IndexError);
  EXPECT_THROW(normalize_dim(-4, 3, "op"), IndexError);
}

TEST(TensorStorage, AlignedAndShared) {
  Tensor a = zeros({3, 5});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.impl()->storage->data()) % 64, 0u);
  EXPECT_EQ(a.impl()->storage->nbytes(), 15 * sizeof(float));
  Tensor v = a.reshape({5, 3});
  EXPECT_EQ(v.impl()->storage, a.impl()->storage);
  EXPECT_FALSE(v.is_same(a));
  // A zero-byte storage still has a valid pointer.
  EXPECT_NE(zeros({0}).impl()->storage->data(), nullptr);
}

}  // namespace
