// The zero-skipping Gemm (f32.h) for int8 models: QGemm with uint8 or int8
// activations (one zero point), symmetric int8 weights (scales per output or per tensor), int32
// bias, batch <= 4:
//
//   acc[b, j] = bias[j] + sum over c of (x[b, c] - x_zero) * W[j, c]     (exact, int32)
//   y[b, j]   = requantized: round_half_even(clamp(acc * multiplier[j])) + y_zero, saturated
//               dequantized: acc * multiplier[j]                          (float output)
//
// with multiplier[j] = alpha * x_scale * w_scale[j] / y_scale, the reference kernel's formula
// (backends/reference/quant.cpp), so that both give the same integers. An input equal to its
// zero point (a quantized ReLU's zero) adds nothing, and the weights it multiplies are not read:
// the same-padding PilotNet's int8 fc1 streams 16.7 MB per inference on oneDNN's inner product.
//
// Format: like the float kernel, panels of 64 outputs, k-major, one 64-byte run per input and
// panel, its bytes ordered so that the AVX-512 kernel's widening and interleaving leave output j
// in lane j % 16 of accumulator j / 16 (pair_position()). The kernel takes listed inputs two at a
// time: two runs widened to int16 and interleaved, one vpdpwssd per 16 outputs (AVX512-VNNI)
// multiplies and adds both. Portable loops where the CPU lacks AVX512-BW or VNNI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pitlane/runtime/kernels/zero_skip_gemm/common.h"
#include "pitlane/runtime/large_buffer.h"

namespace pitlane::runtime::kernels {

struct ZeroSkipGemmInt8 {
  int64_t m = 0, n = 0, k = 0;  // x [m,k] (u8 or s8), W [n,k] (s8), y [m,n]
  int64_t panels = 0;           // ceil(n / 64); the last panel is zero-padded to 64 outputs
  std::unique_ptr<LargeBuffer> weights;  // [panels][k][64] int8, runs in pair_position() order
  std::vector<int32_t> bias;             // [n], zeros when the Gemm has none
  std::vector<float> multiplier;         // [n]
  bool x_signed = false;                 // x is int8 (else uint8)
  int32_t x_zero = 0;
  enum class Output : uint8_t { u8, s8, f32 } output = Output::u8;
  float y_zero = 0.0f;
  float lo = 0.0f, hi = 255.0f;  // clamp of acc * multiplier (qmin - y_zero, qmax - y_zero;
                                 // lo >= 0 with ReLU); f32 output: lo = 0 with ReLU, else -inf
  int threads = 1;
  bool avx512 = false;  // the AVX-512 kernel runs (BW and VNNI: cpu_features(), at create time)
  size_t workspace_floats = 0;  // one list of up to k input numbers per thread

  const int8_t* panel(int64_t p) const;
  size_t storage_bytes() const;
};

// Where output j (0..63) of a run is stored, so that the AVX-512 kernel's sign extension
// (vpmovsxbw of each 32-byte half) and word interleave (vpunpcklwd / vpunpckhwd) put it in lane
// j % 16 of accumulator j / 16.
int64_t pair_position(int64_t j);

struct QuantizedGemmParams {
  float x_scale = 1.0f;
  int32_t x_zero = 0;
  bool x_signed = false;
  std::vector<float> w_scale;  // one per output, or one for all
  float alpha = 1.0f;
  bool requantize = true;  // false: float output
  float y_scale = 1.0f;
  int32_t y_zero = 0;
  bool y_signed = false;
  bool relu = false;
};

// Packs W [n,k] (integer-valued floats in [-128, 127], row-major) for batch m <= 4; bias [n]
// (integer-valued floats) may be null.
ZeroSkipGemmInt8 make_zero_skip_gemm_int8(const float* w, int64_t n, int64_t k, const float* bias,
                                          const QuantizedGemmParams& params, int64_t m,
                                          int threads);
// x [m,k] bytes (u8 or s8), y [m,n] bytes or floats (g.output); workspace: g.workspace_floats
// floats. Does not allocate.
void run_zero_skip_gemm_int8(const ZeroSkipGemmInt8& g, const void* x, void* y, float* workspace);

}  // namespace pitlane::runtime::kernels
