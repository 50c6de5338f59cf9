// Internal to the sparse Gemm (f32.h): the microkernels over a range of output rows [r0, r1), one
// per instruction set: portable (f32.cpp) and AVX-512F (f32_avx512f.cpp, only called where
// sparse_gemm_avx512_runs()). run_sparse_gemm() splits the rows between threads.
#pragma once

#include <cstdint>

#include "pitlane/runtime/cpu_features.h"
#include "pitlane/runtime/kernels/sparse_gemm/f32.h"

namespace pitlane::runtime::kernels {

// What f32_avx512f.cpp is compiled for (its target attribute): make_sparse_gemm() asks once.
inline bool sparse_gemm_avx512_runs(const CpuFeatures& cpu) {
  return cpu.avx512f && cpu.popcnt && cpu.bmi;
}

// One column chunk of the expanding kernel: y[b, r] (+)= sum over row r's nonzeros in the chunk
// of value * x[b, column]; chunk 0 starts from bias[r].
void expand_rows_portable(const SparseGemm& g, const float* x, float* y, int64_t r0, int64_t r1,
                          int64_t chunk);
void expand_rows_avx512(const SparseGemm& g, const float* x, float* y, int64_t r0, int64_t r1,
                        int64_t chunk);

// One column chunk of the transposed kernel: yt[r, 0:lanes] (+)= sum over row r's nonzeros in
// the chunk of value * xt[column, 0:lanes]; chunk 0 starts from zero. lanes: 16, 32, 48 or 64.
void transposed_rows_portable(const SparseGemm& g, const float* xt, int64_t lanes, float* yt,
                              int64_t r0, int64_t r1, int64_t chunk);
void transposed_rows_avx512(const SparseGemm& g, const float* xt, int64_t lanes, float* yt,
                            int64_t r0, int64_t r1, int64_t chunk);

}  // namespace pitlane::runtime::kernels
