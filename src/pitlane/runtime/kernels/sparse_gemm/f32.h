// Sparse fp32 Gemm for constant weights with many exact zeros (magnitude-pruned models):
// y [m,n] = act(x [m,k] * W^T + bias), W [n,k] as canonical Gemm holds it (transB = 1).
//
// Format ("bitmask rows"): for every output row, one bit per weight column (set: nonzero) in
// 16-bit groups, and the nonzero values packed in column order, fp32. It costs k/8 bytes per row
// plus 4 bytes per nonzero: 0.93 bytes per weight at 80% zeros against 4 for dense, and unlike
// CSR (6 bytes per nonzero with uint16 indices) it stays smaller down to about 30% zeros.
// Columns go in chunks stored chunk after chunk (all rows' chunk 0, then chunk 1, ...), so that
// the part of x a chunk reads stays in cache while the rows stream past.
//
// Two kernels read it (picked from the batch at create time):
// - few rows of x (m <= kExpandMaxBatch), chunks of 2048 columns: per group of 16 columns, the
//   packed values are expanded to their lanes (AVX-512 vexpandps) and multiplied with 16
//   contiguous inputs: no gathers, the weight is streamed once; memory traffic shrinks, the work
//   per group does not (so 80% and 90% zeros cost about the same);
// - larger batches, chunks of 128 columns: x is transposed into the workspace (k rows of up to 64
//   batch lanes) and every nonzero adds value * x^T[column] to up to four vectors of
//   accumulators: the work shrinks with the zeros, as it cannot in a dense product.
// AVX-512 versions are chosen once at create time when the CPU has it (the binary itself targets
// plain x86-64); elsewhere portable loops compute the same thing.
//
//   SparseGemm g = make_sparse_gemm(w.data(), n, k, bias, act, m, threads);
//   std::vector<float> workspace(g.workspace_floats);   // the plan keeps it in its arena
//   run_sparse_gemm(g, x, y, workspace.data());
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pitlane/runtime/graph.h"

namespace pitlane::runtime::kernels {

// Batches up to this size take the expanding kernel; larger ones the transposed one.
inline constexpr int64_t kExpandMaxBatch = 4;

struct SparseGemm {
  int64_t m = 0, n = 0, k = 0;  // x [m,k], W [n,k], y [m,n]
  // Columns go in chunks (a multiple of 64), chunk-major: all rows' chunk 0, then chunk 1, ...
  // so that the part of x a chunk reads stays in cache while every row streams past it.
  int64_t chunk_columns = 0;
  int64_t chunks = 0;
  int64_t chunk_groups = 0;           // 16-column groups per (chunk, row): chunk_columns / 16
  std::vector<uint16_t> masks;        // [chunks, n, chunk_groups]: bit j of group g = column
                                      // chunk * chunk_columns + 16g + j is nonzero
  std::vector<float> values;          // nonzeros, by chunk, then row, then column
  std::vector<uint32_t> chunk_start;  // [chunks * n + 1]: first value of (chunk, row)
  std::vector<float> bias;            // [n], zeros when the Gemm has none
  FusedActivation activation;
  int threads = 1;
  bool avx512 = false;          // the AVX-512 kernels run (from cpu_features(), at create time)
  size_t workspace_floats = 0;  // scratch the run needs (transposed x and partial sums)

  double zero_fraction() const { return 1.0 - static_cast<double>(values.size()) / (n * k); }
  size_t storage_bytes() const;  // masks, values, offsets and bias as held
};

// Fraction of exact zeros (+0 and -0) in `count` floats.
double zero_fraction(const float* w, size_t count);
// Whether the sparse kernel is expected to beat oneDNN's dense inner product for an [n,k] weight
// with this fraction of zeros at batch m (thresholds measured: see docs/runtime.md).
bool sparse_gemm_pays(int64_t n, int64_t k, double zeros, int64_t m);

// Packs W [n,k] (row-major) for batch m; bias [n] may be null.
SparseGemm make_sparse_gemm(const float* w, int64_t n, int64_t k, const float* bias,
                            const FusedActivation& activation, int64_t m, int threads);
// x [m,k] and y [m,n] row-major; workspace: g.workspace_floats floats. Does not allocate.
void run_sparse_gemm(const SparseGemm& g, const float* x, float* y, float* workspace);

}  // namespace pitlane::runtime::kernels
