// Reference data movement: Transpose and Concat.
#include <cstring>

#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {

TransposeParams make_transpose(const std::vector<int64_t>& in_shape,
                               const std::vector<int64_t>& perm) {
  const size_t rank = in_shape.size();
  std::vector<int64_t> in_strides(rank, 1);
  for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * in_shape[i];
  TransposeParams p;
  for (size_t i = 0; i < rank; ++i) {
    p.out_shape.push_back(in_shape[perm[i]]);
    p.strides.push_back(in_strides[perm[i]]);
  }
  return p;
}

void transpose(const TransposeParams& p, const float* x, float* y) {
  const size_t rank = p.out_shape.size();
  int64_t index[8] = {0};
  int64_t count = 1;
  for (int64_t d : p.out_shape) count *= d;
  for (int64_t o = 0; o < count; ++o) {
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d) src += index[d] * p.strides[d];
    y[o] = x[src];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < p.out_shape[d]) break;
      index[d] = 0;
    }
  }
}

void concat(const ConcatParams& p, std::span<const float* const> inputs, float* y) {
  for (int64_t o = 0; o < p.outer; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::memcpy(y, inputs[i] + o * p.chunk[i], p.chunk[i] * sizeof(float));
      y += p.chunk[i];
    }
  }
}

}  // namespace pitlane::runtime::reference
