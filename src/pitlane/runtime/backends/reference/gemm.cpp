// Reference matrix product: y = alpha * op(a) * op(b) + beta * c, row-major.
#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {

void gemm(const GemmParams& p, const float* a, const float* b, const float* c, float* y) {
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      float acc = 0.0f;
      for (int64_t l = 0; l < p.k; ++l) {
        const float av = p.trans_a ? a[l * p.m + i] : a[i * p.k + l];
        const float bv = p.trans_b ? b[j * p.k + l] : b[l * p.n + j];
        acc += av * bv;
      }
      float bias = 0.0f;
      switch (p.bias) {
        case BiasKind::none:
          break;
        case BiasKind::scalar:
          bias = c[0];
          break;
        case BiasKind::per_column:
          bias = c[j];
          break;
        case BiasKind::per_row:
          bias = c[i];
          break;
        case BiasKind::full:
          bias = c[i * p.n + j];
          break;
      }
      y[i * p.n + j] = p.alpha * acc + p.beta * bias;
    }
  }
  apply_activation(p.activation, {y, static_cast<size_t>(p.m * p.n)});
}

}  // namespace pitlane::runtime::reference
