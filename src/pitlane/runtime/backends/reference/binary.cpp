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
inline float apply(Op op, float a, float b) {
  switch (op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
    default:
      return a / b;
  }
}
}  // namespace

void binary(const BinaryParams& p, const float* a, const float* b, float* y) {
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
    for (int64_t i = 0; i < inner; ++i) y[done + i] = apply(p.op, a[ao + i * as], b[bo + i * bs]);
    for (size_t d = rank > 0 ? rank - 1 : 0; d-- > 0;) {  // (rank 0: one element, no odometer)
      if (++index[d] < p.out_shape[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace pitlane::runtime::reference
