// Reference broadcasting binary operators (Add, Sub, Mul, Div).
#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape,
                                       const std::vector<int64_t>& out_shape) {
  std::vector<int64_t> strides(out_shape.size(), 0);
  int64_t stride = 1;
  const size_t offset = out_shape.size() - shape.size();
  for (size_t i = shape.size(); i-- > 0;) {
    strides[offset + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

namespace {

// One row of the output: y[i] = f(a[i * as], b[i * bs]), with the common stride patterns (both
// contiguous, one broadcast along the row) as separate loops the compiler can vectorize.
template <class F>
void row(F f, const float* a, int64_t as, const float* b, int64_t bs, float* y, int64_t n) {
  if (as == 1 && bs == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (as == 1 && bs == 0) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], bv);
  } else if (as == 0 && bs == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) y[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i * as], b[i * bs]);
  }
}

template <class F>
void binary_with(F f, const BinaryParams& p, const float* a, const float* b, float* y) {
  const size_t rank = p.out_shape.size();
  int64_t count = 1;
  for (int64_t d : p.out_shape) count *= d;
  if (count == 0) return;
  // Odometer over the output index; the innermost dimension runs as a plain loop.
  int64_t index[8] = {0};
  const int64_t inner = rank ? p.out_shape[rank - 1] : 1;
  const int64_t as = rank ? p.a_strides[rank - 1] : 0, bs = rank ? p.b_strides[rank - 1] : 0;
  for (int64_t done = 0; done < count; done += inner) {
    int64_t ao = 0, bo = 0;
    for (size_t d = 0; d + 1 < rank; ++d) {
      ao += index[d] * p.a_strides[d];
      bo += index[d] * p.b_strides[d];
    }
    row(f, a + ao, as, b + bo, bs, y + done, inner);
    for (size_t d = rank > 0 ? rank - 1 : 0; d-- > 0;) {  // (rank 0: one element, no odometer)
      if (++index[d] < p.out_shape[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

void binary(const BinaryParams& p, const float* a, const float* b, float* y) {
  switch (p.op) {
    case Op::Add:
      return binary_with([](float u, float v) { return u + v; }, p, a, b, y);
    case Op::Sub:
      return binary_with([](float u, float v) { return u - v; }, p, a, b, y);
    case Op::Mul:
      return binary_with([](float u, float v) { return u * v; }, p, a, b, y);
    default:
      return binary_with([](float u, float v) { return u / v; }, p, a, b, y);
  }
}

}  // namespace pitlane::runtime::reference
