// Sparse fp32 Gemm: packing at create time, the load-time choice, the portable microkernels and
// the run (threads over output rows). The AVX-512 microkernels are in f32_avx512f.cpp.
#include "pitlane/runtime/kernels/sparse_gemm/f32.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <span>

#include "pitlane/runtime/backends/reference/kernels.h"
#include "pitlane/runtime/kernels/sparse_gemm/microkernels.h"

namespace pitlane::runtime::kernels {

namespace {

// Columns per chunk: 8 KiB of x per batch row stays in L1 for the expanding kernel; for the
// transposed one, 128 x^T rows of 64 lanes (32 KiB) stay in L1 (measured: 7.0 ms for the
// same-padding fc1 at 80% zeros, batch 64, against 8.6 ms with 2048 columns).
constexpr int64_t kChunkColumns = 2048;
constexpr int64_t kTransposedChunkColumns = 128;

// The transposed kernel's batch tile: 16, 32, 48 or 64 lanes.
int64_t tile_lanes(int64_t m) {
  return std::min<int64_t>(64, (m + 15) / 16 * 16);
}

// Bits of 64 columns (word) of the chunk's row.
uint64_t mask_word(const SparseGemm& g, int64_t chunk, int64_t row, int64_t word) {
  uint64_t bits;
  std::memcpy(&bits, g.masks.data() + (chunk * g.n + row) * g.chunk_groups + word * 4, sizeof bits);
  return bits;
}

// This thread's share [begin, end) of `count` rows (or other units of work).
std::pair<int64_t, int64_t> thread_rows(int64_t count) {
  const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
  return {count * t / nt, count * (t + 1) / nt};
}

}  // namespace

void expand_rows_portable(const SparseGemm& g, const float* x, float* y, int64_t r0, int64_t r1,
                          int64_t chunk) {
  const int64_t c0 = chunk * g.chunk_columns;
  const int64_t words = (std::min(g.k - c0, g.chunk_columns) + 63) / 64;
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t b = 0; b < g.m; ++b) {
      const float* xb = x + b * g.k + c0;
      const float* v = g.values.data() + g.chunk_start[chunk * g.n + r];
      float sum = 0.0f;
      for (int64_t w = 0; w < words; ++w)
        for (uint64_t bits = mask_word(g, chunk, r, w); bits; bits &= bits - 1)
          sum += *v++ * xb[w * 64 + std::countr_zero(bits)];
      float& out = y[b * g.n + r];
      out = (chunk == 0 ? g.bias[r] : out) + sum;
    }
  }
}

void transposed_rows_portable(const SparseGemm& g, const float* xt, int64_t lanes, float* yt,
                              int64_t r0, int64_t r1, int64_t chunk) {
  const int64_t c0 = chunk * g.chunk_columns;
  const int64_t words = (std::min(g.k - c0, g.chunk_columns) + 63) / 64;
  for (int64_t r = r0; r < r1; ++r) {
    float* acc = yt + r * lanes;
    if (chunk == 0) std::fill(acc, acc + lanes, 0.0f);
    const float* v = g.values.data() + g.chunk_start[chunk * g.n + r];
    for (int64_t w = 0; w < words; ++w)
      for (uint64_t bits = mask_word(g, chunk, r, w); bits; bits &= bits - 1) {
        const float value = *v++;
        const float* xc = xt + (c0 + w * 64 + std::countr_zero(bits)) * lanes;
        for (int64_t l = 0; l < lanes; ++l) acc[l] += value * xc[l];
      }
  }
}

size_t SparseGemm::storage_bytes() const {
  return masks.size() * sizeof(uint16_t) + values.size() * sizeof(float) +
         chunk_start.size() * sizeof(uint32_t) + bias.size() * sizeof(float);
}

double zero_fraction(const float* w, size_t count) {
  size_t zeros = 0;
  for (size_t i = 0; i < count; ++i) zeros += w[i] == 0.0f;
  return count ? static_cast<double>(zeros) / count : 0.0;
}

bool sparse_gemm_pays(int64_t n, int64_t k, double zeros, int64_t m) {
  // Small weights live in cache, where oneDNN's dense kernel is at its best.
  if (n * k < (m <= kExpandMaxBatch ? 256 * 1024 : 64 * 1024)) return false;
  return zeros >= (m <= kExpandMaxBatch ? 0.4 : 0.5);
}

SparseGemm make_sparse_gemm(const float* w, int64_t n, int64_t k, const float* bias,
                            const FusedActivation& activation, int64_t m, int threads) {
  SparseGemm g{.m = m, .n = n, .k = k, .activation = activation, .threads = threads};
  const int64_t chunk = m <= kExpandMaxBatch ? kChunkColumns : kTransposedChunkColumns;
  g.chunk_columns = std::min(chunk, (k + 63) / 64 * 64);
  g.chunks = (k + g.chunk_columns - 1) / g.chunk_columns;
  g.chunk_groups = g.chunk_columns / 16;
  g.masks.assign(g.chunks * n * g.chunk_groups, 0);
  g.chunk_start.assign(g.chunks * n + 1, 0);
  for (int64_t q = 0; q < g.chunks; ++q) {
    const int64_t c0 = q * g.chunk_columns, c1 = std::min(k, c0 + g.chunk_columns);
    for (int64_t r = 0; r < n; ++r) {
      g.chunk_start[q * n + r] = static_cast<uint32_t>(g.values.size());
      uint16_t* mask = g.masks.data() + (q * n + r) * g.chunk_groups;
      for (int64_t c = c0; c < c1; ++c) {
        const float v = w[r * k + c];
        if (v == 0.0f) continue;
        mask[(c - c0) / 16] |= static_cast<uint16_t>(1u << ((c - c0) % 16));
        g.values.push_back(v);
      }
    }
  }
  g.chunk_start[g.chunks * n] = static_cast<uint32_t>(g.values.size());
  g.values.shrink_to_fit();
  g.bias.assign(n, 0.0f);
  if (bias) std::copy(bias, bias + n, g.bias.begin());
  g.avx512 = sparse_gemm_avx512_runs(cpu_features());
  if (m > kExpandMaxBatch) g.workspace_floats = static_cast<size_t>((k + n) * tile_lanes(m));
  return g;
}

namespace {

// One thread's share of the expanding kernel: a range of output rows.
void expand_share(const SparseGemm& g, const float* x, float* y) {
  const auto [r0, r1] = thread_rows(g.n);
  for (int64_t q = 0; q < g.chunks; ++q) {
    if (g.avx512)
      expand_rows_avx512(g, x, y, r0, r1, q);
    else
      expand_rows_portable(g, x, y, r0, r1, q);
  }
}

// One thread's share of the transposed kernel: per batch tile, a range of x^T's columns to
// transpose, then a range of output rows over every column chunk.
void transposed_share(const SparseGemm& g, const float* x, float* y, float* workspace) {
  const int64_t lanes = tile_lanes(g.m);
  float* xt = workspace;                // [k, lanes]
  float* yt = workspace + g.k * lanes;  // [n, lanes]
  const auto [block0, block1] = thread_rows((g.k + 63) / 64);
  const auto [r0, r1] = thread_rows(g.n);
  for (int64_t b0 = 0; b0 < g.m; b0 += lanes) {
    const int64_t rows = std::min(lanes, g.m - b0);
    // x^T for this batch tile, 64 columns at a time; lanes past the batch stay zero.
    for (int64_t c0 = block0 * 64; c0 < std::min(g.k, block1 * 64); c0 += 64) {
      const int64_t c1 = std::min(g.k, c0 + 64);
      for (int64_t c = c0; c < c1; ++c)
        std::fill(xt + c * lanes + rows, xt + (c + 1) * lanes, 0.0f);
      for (int64_t b = 0; b < rows; ++b) {
        const float* xb = x + (b0 + b) * g.k;
        for (int64_t c = c0; c < c1; ++c) xt[c * lanes + b] = xb[c];
      }
    }
#pragma omp barrier
    for (int64_t q = 0; q < g.chunks; ++q) {
      if (g.avx512)
        transposed_rows_avx512(g, xt, lanes, yt, r0, r1, q);
      else
        transposed_rows_portable(g, xt, lanes, yt, r0, r1, q);
    }
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t b = 0; b < rows; ++b) y[(b0 + b) * g.n + r] = yt[r * lanes + b] + g.bias[r];
        // The next tile rewrites x^T only after every thread is done with this one.
#pragma omp barrier
  }
}

}  // namespace

void run_sparse_gemm(const SparseGemm& g, const float* x, float* y, float* workspace) {
  // One thread runs without a parallel region: libgomp allocates the team of a region even
  // when it runs serially. (Barriers outside a region return at once.)
  const bool expand = g.m <= kExpandMaxBatch;
  if (g.threads > 1) {
#pragma omp parallel num_threads(g.threads)
    {
      if (expand)
        expand_share(g, x, y);
      else
        transposed_share(g, x, y, workspace);
    }
  } else if (expand) {
    expand_share(g, x, y);
  } else {
    transposed_share(g, x, y, workspace);
  }
  reference::apply_activation(g.activation, {y, static_cast<size_t>(g.m * g.n)});
}

}  // namespace pitlane::runtime::kernels
