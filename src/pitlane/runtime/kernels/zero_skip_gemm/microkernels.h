// Internal to the zero-skipping Gemms (f32.h, int8.h): their AVX-512 panel microkernels, beside
// the portable loops in f32.cpp and int8.cpp, and the CPU features each file is compiled for. Each
// computes one panel of outputs over the listed columns; the run picks portable or AVX-512 from
// the kernel's `avx512`, set once at create time from cpu_features().
#pragma once

#include <cstdint>

#include "pitlane/runtime/cpu_features.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/f32.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/int8.h"

namespace pitlane::runtime::kernels {

// What f32_avx512f.cpp and int8_avx512vnni.cpp are compiled for (their target attributes).
inline bool zero_skip_f32_avx512_runs(const CpuFeatures& cpu) {
  return cpu.avx512f && cpu.popcnt;
}
inline bool zero_skip_int8_avx512_runs(const CpuFeatures& cpu) {
  return cpu.avx512f && cpu.avx512bw && cpu.avx512vnni;
}

// f32_avx512f.cpp: one panel's outputs y[b, 64p + j] over the listed columns, bias added and ReLU
// applied when that is the activation; weights as dense, compressed (sparse) or bf16 runs.
void zero_skip_panel_avx512(const ZeroSkipGemm& g, int64_t p, const float* x,
                            const uint32_t* columns, int64_t count, float* y);
void zero_skip_sparse_panel_avx512(const ZeroSkipGemm& g, int64_t p, const float* x,
                                   const uint32_t* columns, int64_t count, float* y);
void zero_skip_bf16_panel_avx512(const ZeroSkipGemm& g, int64_t p, const float* x,
                                 const uint32_t* columns, int64_t count, float* y);

// int8_avx512vnni.cpp: one panel's int32 sums over the listed inputs, bias not included, into
// acc[b * 64 + j].
void zero_skip_int8_panel_avx512(const ZeroSkipGemmInt8& g, int64_t p, const uint8_t* x,
                                 const uint32_t* columns, int64_t count, int32_t* acc);

}  // namespace pitlane::runtime::kernels
