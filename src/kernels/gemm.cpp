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

template <typename T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda,
          const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  gemm_call<T>(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, a, lda, b, ldb, beta,
               c, ldc);
}
template void gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t,
                          const float*, std::int64_t, float, float*, std::int64_t);
template void gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, const double*, std::int64_t,
                           const double*, std::int64_t, double, double*, std::int64_t);

}  // namespace descent::kernels
