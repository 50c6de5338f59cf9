// What the zero-skipping Gemms share (fp32/bf16 in f32.h, int8 in int8.h): the panel of outputs
// their weights are packed in, the largest batch they take, and the load-time choice.
#pragma once

#include <cstdint>

namespace pitlane::runtime::kernels {

inline constexpr int64_t kZeroSkipMaxBatch = 4;
inline constexpr int64_t kZeroSkipPanel = 64;  // outputs per panel (4 AVX-512 vectors)

// Whether the kernel is expected to beat oneDNN's dense inner product for a W [n,k] at batch m:
// batch 1, or batches up to 4 with weights too large for L2 (measured: see docs/runtime.md).
inline bool zero_skip_gemm_pays(int64_t n, int64_t k, int64_t m) {
  // Measured (bench/zero_skip_bench and PilotNet's profile): at batch 1 every size gains, from
  // 0% zeros up (fc2, 1164x100: 5.1 -> 4.6 us with none; PilotNet's last three layers 12.5 ->
  // 1.7 us together). At batch 4 a layer read from L2 (fc2) gains only from about 45% zeros.
  return m <= kZeroSkipMaxBatch && n * k >= (m == 1 ? 0 : 256 * 1024);
}

}  // namespace pitlane::runtime::kernels
