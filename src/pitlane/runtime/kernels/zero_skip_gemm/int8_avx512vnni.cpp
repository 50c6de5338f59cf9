// AVX-512 panel kernel of the zero-skipping int8 Gemm (see int8.h). Compiled for
// AVX-512 BW and VNNI through function attributes, so that the rest of the binary still runs on
// plain x86-64; make_zero_skip_gemm_int8() checks cpu_features() once
// (zero_skip_int8_avx512_runs()).
#include <immintrin.h>

#include <algorithm>

#include "pitlane/runtime/kernels/zero_skip_gemm/microkernels.h"

#define PITLANE_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

namespace pitlane::runtime::kernels {

namespace {

// Listed inputs ahead at which a run is prefetched (as in the float kernel).
constexpr int64_t kPrefetchColumns = 8;

// (x1 - zero, x2 - zero) of batch row b as the two 16-bit halves of one 32-bit lane.
PITLANE_AVX512_VNNI __m512i input_pair(const ZeroSkipGemmInt8& g, const uint8_t* x, int64_t b,
                                       uint32_t c1, uint32_t c2, bool second) {
  auto value = [&](uint32_t c) {
    const uint8_t v = x[b * g.k + c];
    return (g.x_signed ? static_cast<int8_t>(v) : static_cast<int32_t>(v)) - g.x_zero;
  };
  const int32_t lo = value(c1), hi = second ? value(c2) : 0;
  return _mm512_set1_epi32(static_cast<int32_t>((static_cast<uint32_t>(hi) << 16) |
                                                (static_cast<uint32_t>(lo) & 0xffffu)));
}

template <int M>
PITLANE_AVX512_VNNI void panel_kernel(const ZeroSkipGemmInt8& g, int64_t p, const uint8_t* x,
                                      const uint32_t* columns, int64_t count, int32_t* out) {
  const int8_t* w = g.panel(p);
  __m512i acc[M][4];
  for (int b = 0; b < M; ++b)
    for (int v = 0; v < 4; ++v) acc[b][v] = _mm512_setzero_si512();
  for (int64_t i = 0; i < count; i += 2) {
    const bool second = i + 1 < count;
    const uint32_t c1 = columns[i], c2 = second ? columns[i + 1] : c1;
    const int8_t* ahead = w + columns[std::min(i + kPrefetchColumns, count - 1)] * kZeroSkipPanel;
    _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
    const __m512i r1 = _mm512_load_si512(w + c1 * kZeroSkipPanel);
    const __m512i r2 = _mm512_load_si512(w + c2 * kZeroSkipPanel);
    const __m512i a_lo = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(r1));
    const __m512i a_hi = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(r1, 1));
    const __m512i b_lo = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(r2));
    const __m512i b_hi = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(r2, 1));
    // Lane j % 16 of pair v holds (W[j, c1], W[j, c2]) for output j = 16v + lane.
    const __m512i pairs[4] = {_mm512_unpacklo_epi16(a_lo, b_lo), _mm512_unpackhi_epi16(a_lo, b_lo),
                              _mm512_unpacklo_epi16(a_hi, b_hi), _mm512_unpackhi_epi16(a_hi, b_hi)};
    for (int b = 0; b < M; ++b) {
      const __m512i xv = input_pair(g, x, b, c1, c2, second);
      for (int v = 0; v < 4; ++v) acc[b][v] = _mm512_dpwssd_epi32(acc[b][v], pairs[v], xv);
    }
  }
  for (int b = 0; b < M; ++b)
    for (int v = 0; v < 4; ++v) _mm512_storeu_si512(out + b * kZeroSkipPanel + 16 * v, acc[b][v]);
}

}  // namespace

void zero_skip_int8_panel_avx512(const ZeroSkipGemmInt8& g, int64_t p, const uint8_t* x,
                                 const uint32_t* columns, int64_t count, int32_t* acc) {
  switch (g.m) {
    case 1:
      return panel_kernel<1>(g, p, x, columns, count, acc);
    case 2:
      return panel_kernel<2>(g, p, x, columns, count, acc);
    case 3:
      return panel_kernel<3>(g, p, x, columns, count, acc);
    default:
      return panel_kernel<4>(g, p, x, columns, count, acc);
  }
}

}  // namespace pitlane::runtime::kernels
