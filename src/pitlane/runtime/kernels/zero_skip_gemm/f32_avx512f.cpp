// AVX-512 panel kernels of the zero-skipping Gemm (see f32.h for the format). Compiled
// for AVX-512F through function attributes, so that the rest of the binary still runs on plain
// x86-64; make_zero_skip_gemm() checks cpu_features() once (zero_skip_f32_avx512_runs()) and the
// run calls these only where the CPU has it.
#include <immintrin.h>

#include <algorithm>

#include "pitlane/runtime/kernels/zero_skip_gemm/microkernels.h"

#define PITLANE_AVX512 __attribute__((target("avx512f,popcnt")))

namespace pitlane::runtime::kernels {

namespace {

// Listed columns ahead at which a run's weights are prefetched. Skipped columns leave holes in
// the stream that the hardware prefetcher does not jump (measured on the same-padding fc1 at 45%
// zeros: 1.68 ms with, 1.77 ms without).
constexpr int64_t kPrefetchColumns = 8;

// Bias, then ReLU where that is the activation; the last panel's padding lanes are left out.
template <int M, int V>
PITLANE_AVX512 void store_outputs(const ZeroSkipGemm& g, int64_t p, const __m512 (&acc)[M][V],
                                  float* y) {
  const int64_t j0 = p * kZeroSkipPanel, outputs = std::min<int64_t>(16 * V, g.n - j0);
  const bool relu = g.activation.kind == Activation::relu;
  for (int v = 0; v < V; ++v) {
    const int64_t lanes = std::clamp<int64_t>(outputs - 16 * v, 0, 16);
    const auto mask = static_cast<__mmask16>((1u << lanes) - 1);
    const __m512 bias = _mm512_maskz_loadu_ps(mask, g.bias.data() + j0 + 16 * v);
    for (int b = 0; b < M; ++b) {
      __m512 out = _mm512_add_ps(acc[b][v], bias);
      if (relu) out = _mm512_max_ps(out, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(y + b * g.n + j0 + 16 * v, mask, out);
    }
  }
}

// 16 weights of a run as fp32: stored fp32, or bf16 widened (a bf16 is the top half of a float).
PITLANE_AVX512 __m512 load16(const float* w) {
  return _mm512_load_ps(w);
}
PITLANE_AVX512 __m512 load16(const uint16_t* w) {
  const __m256i half = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}

// M batch rows, V vectors of 16 outputs: M * V accumulators stay in registers for the panel.
// T: the stored weight type (float, or uint16_t for bf16).
template <int M, int V, class T>
PITLANE_AVX512 void panel_kernel(const ZeroSkipGemm& g, const T* w, int64_t p, const float* x,
                                 const uint32_t* columns, int64_t count, float* y) {
  constexpr int64_t width = 16 * V;
  __m512 acc[M][V];
  for (int b = 0; b < M; ++b)
    for (int v = 0; v < V; ++v) acc[b][v] = _mm512_setzero_ps();
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t c = columns[i];
    const auto* ahead = reinterpret_cast<const char*>(
        w + columns[std::min(i + kPrefetchColumns, count - 1)] * width);
    for (size_t line = 0; line < width * sizeof(T); line += 64)
      _mm_prefetch(ahead + line, _MM_HINT_T0);
    const T* row = w + c * width;
    __m512 xv[M];
    for (int b = 0; b < M; ++b) xv[b] = _mm512_set1_ps(x[b * g.k + c]);
    for (int v = 0; v < V; ++v) {
      const __m512 wv = load16(row + 16 * v);
      for (int b = 0; b < M; ++b) acc[b][v] = _mm512_fmadd_ps(wv, xv[b], acc[b][v]);
    }
  }
  store_outputs<M, V>(g, p, acc, y);
}

// The same over compressed runs: per listed column, V groups of 16 mask bits expand the packed
// nonzeros to their lanes.
template <int M, int V>
PITLANE_AVX512 void sparse_panel_kernel(const ZeroSkipGemm& g, int64_t p, const float* x,
                                        const uint32_t* columns, int64_t count, float* y) {
  const float* values = g.panel(p);
  const uint64_t* masks = g.run_masks.data() + p * g.k;
  const uint32_t* starts = g.run_start.data() + p * g.k;
  __m512 acc[M][V];
  for (int b = 0; b < M; ++b)
    for (int v = 0; v < V; ++v) acc[b][v] = _mm512_setzero_ps();
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t c = columns[i];
    const float* ahead = values + starts[columns[std::min(i + kPrefetchColumns, count - 1)]];
    _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
    const uint64_t mask = masks[c];
    const float* run = values + starts[c];
    __m512 xv[M];
    for (int b = 0; b < M; ++b) xv[b] = _mm512_set1_ps(x[b * g.k + c]);
    for (int v = 0; v < V; ++v) {
      const auto lanes = static_cast<__mmask16>(mask >> (16 * v));
      const __m512 w = _mm512_maskz_expandloadu_ps(lanes, run);
      run += _mm_popcnt_u32(lanes);
      for (int b = 0; b < M; ++b) acc[b][v] = _mm512_fmadd_ps(w, xv[b], acc[b][v]);
    }
  }
  store_outputs<M, V>(g, p, acc, y);
}

enum class Runs : uint8_t { dense, sparse, bf16 };

template <int M, Runs R, int V>
PITLANE_AVX512 void panel_of(const ZeroSkipGemm& g, int64_t p, const float* x,
                             const uint32_t* columns, int64_t count, float* y) {
  if constexpr (R == Runs::dense)
    panel_kernel<M, V>(g, g.panel(p), p, x, columns, count, y);
  else if constexpr (R == Runs::sparse)
    sparse_panel_kernel<M, V>(g, p, x, columns, count, y);
  else
    panel_kernel<M, V>(g, g.bf16_panel(p), p, x, columns, count, y);
}

template <int M, Runs R>
PITLANE_AVX512 void panel_batch(const ZeroSkipGemm& g, int64_t p, const float* x,
                                const uint32_t* columns, int64_t count, float* y) {
  switch (g.width(p) / 16) {
    case 1:
      return panel_of<M, R, 1>(g, p, x, columns, count, y);
    case 2:
      return panel_of<M, R, 2>(g, p, x, columns, count, y);
    case 3:
      return panel_of<M, R, 3>(g, p, x, columns, count, y);
    default:
      return panel_of<M, R, 4>(g, p, x, columns, count, y);
  }
}

template <Runs R>
PITLANE_AVX512 void panel_any_batch(const ZeroSkipGemm& g, int64_t p, const float* x,
                                    const uint32_t* columns, int64_t count, float* y) {
  switch (g.m) {
    case 1:
      return panel_batch<1, R>(g, p, x, columns, count, y);
    case 2:
      return panel_batch<2, R>(g, p, x, columns, count, y);
    case 3:
      return panel_batch<3, R>(g, p, x, columns, count, y);
    default:
      return panel_batch<4, R>(g, p, x, columns, count, y);
  }
}

}  // namespace

void zero_skip_panel_avx512(const ZeroSkipGemm& g, int64_t p, const float* x,
                            const uint32_t* columns, int64_t count, float* y) {
  panel_any_batch<Runs::dense>(g, p, x, columns, count, y);
}

void zero_skip_sparse_panel_avx512(const ZeroSkipGemm& g, int64_t p, const float* x,
                                   const uint32_t* columns, int64_t count, float* y) {
  panel_any_batch<Runs::sparse>(g, p, x, columns, count, y);
}

void zero_skip_bf16_panel_avx512(const ZeroSkipGemm& g, int64_t p, const float* x,
                                 const uint32_t* columns, int64_t count, float* y) {
  panel_any_batch<Runs::bf16>(g, p, x, columns, count, y);
}

}  // namespace pitlane::runtime::kernels
