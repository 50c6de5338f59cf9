// AVX-512 microkernels of the sparse Gemm (see f32.h for the format). Compiled for AVX-512F
// through function attributes, so that the rest of the binary still runs on plain x86-64;
// make_sparse_gemm() checks cpu_features() once and run_sparse_gemm() calls these only where the
// CPU has what the attribute names (sparse_gemm_avx512_runs()).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "pitlane/runtime/kernels/sparse_gemm/microkernels.h"

#define PITLANE_AVX512 __attribute__((target("avx512f,popcnt,bmi")))

namespace pitlane::runtime::kernels {

namespace {

// Through memory: GCC 12's _mm512_reduce_add_ps warns about its own undefined lanes.
PITLANE_AVX512 float horizontal_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (float x : lanes) s += x;
  return s;
}

// Batch of M rows; U accumulators per batch row, so that M * U independent FMA chains hide the
// FMA latency.
template <int M, int U>
PITLANE_AVX512 void expand_rows_batch(const SparseGemm& g, const float* x_all, float* y, int64_t r0,
                                      int64_t r1, int64_t chunk) {
  const int64_t k = g.k, c0 = chunk * g.chunk_columns;
  const int64_t columns = std::min(k - c0, g.chunk_columns), full = columns / 16;
  const float* x = x_all + c0;
  const auto tail = static_cast<__mmask16>((1u << (columns % 16)) - 1);
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* mask = g.masks.data() + (chunk * g.n + r) * g.chunk_groups;
    const float* v = g.values.data() + g.chunk_start[chunk * g.n + r];
    __m512 acc[M][U];
    for (int b = 0; b < M; ++b)
      for (int u = 0; u < U; ++u) acc[b][u] = _mm512_setzero_ps();
    // 64 columns (four groups) per mask word; popcounts on whole registers (a 16-bit popcnt
    // merges into its destination and chains every group to the one before).
    const int64_t words = columns / 64;
    for (int64_t w = 0; w < words; ++w) {
      uint64_t bits;
      std::memcpy(&bits, mask + w * 4, sizeof bits);
      // 64 pruned columns in a row (block-structured pruning): nothing to add. Unstructured
      // sparsity almost never empties a word, so the branch is free there.
      if (bits == 0) continue;
      for (int u = 0; u < 4; ++u) {
        const uint64_t group = (bits >> (16 * u)) & 0xffff;
        const __m512 wv = _mm512_maskz_expandloadu_ps(static_cast<__mmask16>(group), v);
        v += _mm_popcnt_u64(group);
        for (int b = 0; b < M; ++b)
          acc[b][u % U] =
              _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + b * k + w * 64 + u * 16), acc[b][u % U]);
      }
    }
    for (int64_t i = words * 4; i < full; ++i) {
      const uint64_t group = mask[i];
      const __m512 wv = _mm512_maskz_expandloadu_ps(static_cast<__mmask16>(group), v);
      v += _mm_popcnt_u64(group);
      for (int b = 0; b < M; ++b)
        acc[b][0] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + b * k + i * 16), acc[b][0]);
    }
    if (tail) {
      // The last group reads only the columns that exist (the next batch row, or nothing).
      const __m512 w = _mm512_maskz_expandloadu_ps(mask[full], v);
      for (int b = 0; b < M; ++b)
        acc[b][0] =
            _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(tail, x + b * k + full * 16), acc[b][0]);
    }
    for (int b = 0; b < M; ++b) {
      __m512 sum = acc[b][0];
      for (int u = 1; u < U; ++u) sum = _mm512_add_ps(sum, acc[b][u]);
      float& out = y[b * g.n + r];
      out = (chunk == 0 ? g.bias[r] : out) + horizontal_sum(sum);
    }
  }
}

// V vectors of 16 batch lanes; even and odd nonzeros feed two accumulator sets (2V chains).
template <int V>
PITLANE_AVX512 void transposed_rows_lanes(const SparseGemm& g, const float* xt, float* yt,
                                          int64_t r0, int64_t r1, int64_t chunk) {
  constexpr int64_t lanes = 16 * V;
  const int64_t c0 = chunk * g.chunk_columns;
  const int64_t words = (std::min(g.k - c0, g.chunk_columns) + 63) / 64;
  const float* xt_chunk = xt + c0 * lanes;
  for (int64_t r = r0; r < r1; ++r) {
    float* out = yt + r * lanes;
    __m512 even[V], odd[V];
    for (int j = 0; j < V; ++j) {
      even[j] = chunk == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(out + 16 * j);
      odd[j] = _mm512_setzero_ps();
    }
    const float* v = g.values.data() + g.chunk_start[chunk * g.n + r];
    const uint16_t* mask = g.masks.data() + (chunk * g.n + r) * g.chunk_groups;
    for (int64_t w = 0; w < words; ++w) {
      uint64_t bits;
      std::memcpy(&bits, mask + w * 4, sizeof bits);
      const float* base = xt_chunk + w * 64 * lanes;
      while (bits) {
        const float* xc = base + __builtin_ctzll(bits) * lanes;
        bits &= bits - 1;
        const __m512 s = _mm512_set1_ps(*v++);
        for (int j = 0; j < V; ++j)
          even[j] = _mm512_fmadd_ps(s, _mm512_loadu_ps(xc + 16 * j), even[j]);
        if (!bits) break;
        const float* xd = base + __builtin_ctzll(bits) * lanes;
        bits &= bits - 1;
        const __m512 t = _mm512_set1_ps(*v++);
        for (int j = 0; j < V; ++j)
          odd[j] = _mm512_fmadd_ps(t, _mm512_loadu_ps(xd + 16 * j), odd[j]);
      }
    }
    for (int j = 0; j < V; ++j) _mm512_storeu_ps(out + 16 * j, _mm512_add_ps(even[j], odd[j]));
  }
}

}  // namespace

void expand_rows_avx512(const SparseGemm& g, const float* x, float* y, int64_t r0, int64_t r1,
                        int64_t chunk) {
  switch (g.m) {
    case 1:
      return expand_rows_batch<1, 4>(g, x, y, r0, r1, chunk);
    case 2:
      return expand_rows_batch<2, 2>(g, x, y, r0, r1, chunk);
    case 3:
      return expand_rows_batch<3, 1>(g, x, y, r0, r1, chunk);
    default:
      return expand_rows_batch<4, 1>(g, x, y, r0, r1, chunk);
  }
}

void transposed_rows_avx512(const SparseGemm& g, const float* xt, int64_t lanes, float* yt,
                            int64_t r0, int64_t r1, int64_t chunk) {
  switch (lanes) {
    case 16:
      return transposed_rows_lanes<1>(g, xt, yt, r0, r1, chunk);
    case 32:
      return transposed_rows_lanes<2>(g, xt, yt, r0, r1, chunk);
    case 48:
      return transposed_rows_lanes<3>(g, xt, yt, r0, r1, chunk);
    default:
      return transposed_rows_lanes<4>(g, xt, yt, r0, r1, chunk);
  }
}

}  // namespace pitlane::runtime::kernels
