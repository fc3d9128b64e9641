#include "kernels/gemm.h"

#include <cblas.h>

#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/iterate.h"

namespace descent::kernels {

namespace {

// How the BLAS should read one [rows, cols] matrix with strides (row_stride, col_stride).
struct BlasOperand {
  bool ok = false;
  CBLAS_TRANSPOSE trans = CblasNoTrans;
  std::int64_t ld = 1;
};

BlasOperand blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t row_stride, std::int64_t col_stride) {
  if ((col_stride == 1 || cols == 1) && (rows == 1 || row_stride >= std::max<std::int64_t>(cols, 1))) {
    return {true, CblasNoTrans, std::max<std::int64_t>({row_stride, cols, 1})};
  }
  if ((row_stride == 1 || rows == 1) && (cols == 1 || col_stride >= std::max<std::int64_t>(rows, 1))) {
    return {true, CblasTrans, std::max<std::int64_t>({col_stride, rows, 1})};
  }
  return {};
}

template <typename T>
void gemm_call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
               std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
}

}  // namespace

void batched_gemm(const Tensor& a_in, const Tensor& b_in, const Tensor& out, double beta) {
  const Shape& os = out.shape();
  const std::int64_t nd = static_cast<std::int64_t>(os.size());
  const std::int64_t m = os[nd - 2];
  const std::int64_t n = os[nd - 1];
  const std::int64_t k = a_in.shape().back();
  if (m == 0 || n == 0) return;

  Tensor a = a_in;
  Tensor b = b_in;
  auto matrix = [](const Tensor& t) {
    const std::int64_t d = t.dim();
    return blas_layout(t.shape()[d - 2], t.shape()[d - 1], t.strides()[d - 2], t.strides()[d - 1]);
  };
  BlasOperand la = matrix(a);
  if (!la.ok) {
    a = contiguous_copy(a);
    la = matrix(a);
  }
  BlasOperand lb = matrix(b);
  if (!lb.ok) {
    b = contiguous_copy(b);
    lb = matrix(b);
  }

  // Batch offsets of a and b for every output matrix (their batch dims broadcast to out's).
  const Shape batch(os.begin(), os.end() - 2);
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  const Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  const Strides sa = broadcast_strides(a_batch, Strides(a.strides().begin(), a.strides().end() - 2), batch);
  const Strides sb = broadcast_strides(b_batch, Strides(b.strides().begin(), b.strides().end() - 2), batch);
  const std::int64_t batches = numel(batch);

  dispatch_floating(out.dtype(), "matmul", [&]<typename T>() {
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    T* cp = out.data_ptr<T>();
    for (std::int64_t i = 0; i < batches; ++i) {
      std::int64_t oa = 0, ob = 0, rest = i;
      for (std::size_t d = batch.size(); d-- > 0;) {
        const std::int64_t idx = rest % batch[d];
        rest /= batch[d];
        oa += idx * sa[d];
        ob += idx * sb[d];
      }
      T* c = cp + i * m * n;
      if (k == 0) {  // an empty sum: out = beta * out
        if (beta == 0.0) {
          std::fill(c, c + m * n, T(0));
        } else if (beta != 1.0) {
          for (std::int64_t e = 0; e < m * n; ++e) c[e] *= static_cast<T>(beta);
        }
        continue;
      }
      gemm_call<T>(la.trans, lb.trans, m, n, k, ap + oa, la.ld, bp + ob, lb.ld, static_cast<T>(beta), c, n);
    }
  });
}

namespace {
template <typename T>
void gemv_call(CBLAS_TRANSPOSE t, std::int64_t rows, std::int64_t cols, const T* a, std::int64_t lda, const T* x,
               std::int64_t incx, T beta, T* y, std::int64_t incy) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemv(CblasRowMajor, t, static_cast<int>(rows), static_cast<int>(cols), 1.0f, a, static_cast<int>(lda), x,
                static_cast<int>(incx), beta, y, static_cast<int>(incy));
  } else {
    cblas_dgemv(CblasRowMajor, t, static_cast<int>(rows), static_cast<int>(cols), 1.0, a, static_cast<int>(lda), x,
                static_cast<int>(incx), beta, y, static_cast<int>(incy));
  }
}

template <typename T>
void ger_call(std::int64_t m, std::int64_t n, const T* x, std::int64_t incx, const T* y, std::int64_t incy, T* a,
              std::int64_t lda) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sger(CblasRowMajor, static_cast<int>(m), static_cast<int>(n), 1.0f, x, static_cast<int>(incx), y,
               static_cast<int>(incy), a, static_cast<int>(lda));
  } else {
    cblas_dger(CblasRowMajor, static_cast<int>(m), static_cast<int>(n), 1.0, x, static_cast<int>(incx), y,
               static_cast<int>(incy), a, static_cast<int>(lda));
  }
}

}  // namespace

// A product with one row, one column or an inner size of 1 is a matrix-vector product or an outer
// product: OpenBLAS 0.3.21 would pack it as a full GEMM, which was 30 % of the MLP's step at batch 1.
template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
          const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  // Where element i of op(a)'s only row / column, or of op(b)'s, lies.
  const std::int64_t a_row_step = trans_a ? lda : 1;  // along op(a)'s row (k direction)
  const std::int64_t a_col_step = trans_a ? 1 : lda;  // along op(a)'s column (m direction)
  const std::int64_t b_col_step = trans_b ? 1 : ldb;  // along op(b)'s column (k direction)
  const std::int64_t b_row_step = trans_b ? ldb : 1;  // along op(b)'s row (n direction)
  if (m == 1 || n == 1 || k == 1) {
    // c = beta * c first, then the BLAS adds the product. With beta = 0, zeros are written, not
    // multiplied in: the output may be a recycled buffer holding NaN, and not every OpenBLAS's gemv
    // ignores y then.
    if (beta != T(1)) {
      for (std::int64_t i = 0; i < m; ++i) {
        T* row = c + i * ldc;
        for (std::int64_t j = 0; j < n; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
      }
    }
    if (m == 1) {  // c row += a row @ op(b): op(b)^T [n, k] times a vector
      gemv_call<T>(trans_b ? CblasNoTrans : CblasTrans, trans_b ? n : k, trans_b ? k : n, b, ldb, a, a_row_step, T(1),
                   c, 1);
    } else if (n == 1) {  // c column += op(a) @ b column
      gemv_call<T>(trans_a ? CblasTrans : CblasNoTrans, trans_a ? k : m, trans_a ? m : k, a, lda, b, b_col_step, T(1),
                   c, ldc);
    } else {  // c += (op(a)'s column) (op(b)'s row)
      ger_call<T>(m, n, a, a_col_step, b, b_row_step, c, ldc);
    }
    return;
  }
  gemm_call<T>(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, a, lda, b, ldb, beta,
               c, ldc);
}
template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t,
                          const float*, std::int64_t, float, float*, std::int64_t);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, const double*, std::int64_t,
                           const double*, std::int64_t, double, double*, std::int64_t);

}  // namespace descent::kernels
