// Dense fp32 Gemm for small batches that skips the weights of zero inputs (fp32 sums; weights
// stored fp32, compressed fp32 or bf16):
// y [m,n] = act(x [m,k] * W^T + bias), W [n,k] constant (canonical Gemm, transB = 1), m <= 4.
//
// At batch 1 a large dense layer is a stream of its weights: the same-padding PilotNet's
// 14400x1164 layer reads 67 MB per inference, 2.3 ms at the ~29 GB/s one core draws here, and
// no kernel can read dense weights faster. But its input is a ReLU's output, and about half of
// it is exactly zero (45% for that layer over a test recording, 49% for the valid network's):
// the weights those inputs multiply need not be read at all. Weight sparsity is a property of
// the model (kernels/sparse_gemm/f32.h); this is a property of each input, found at run time.
//
// Format: W^T in panels of 64 outputs (the last one narrower, a multiple of 16), each panel
// k-major ([k][64]): the weights input c multiplies in a panel are one contiguous 256-byte run.
// A run first lists the columns where some batch row is nonzero, then every panel streams only
// those runs, accumulating in registers. With no zeros it streams the same bytes as a dense
// product; zeros (+0 and -0 alike) are skipped exactly, so the result equals the dense product
// up to summation order. AVX-512 where the CPU has it (checked once, at create time), portable
// loops elsewhere.
//
// Pruned weights (ZeroSkipWeights::sparse) store each run compressed instead: a 64-bit mask of
// its nonzero outputs and only the nonzero values, which the kernel expands to their lanes
// (AVX-512 vexpandps). Both kinds of zeros then save work (the same-padding fc1 pruned to 80%, on
// a camera frame: 0.64 ms, against 0.99 ms on the sparse Gemm, which cannot skip inputs).
//
//   ZeroSkipGemm g = make_zero_skip_gemm(w.data(), n, k, bias, act, m, threads);
//   std::vector<float> workspace(g.workspace_floats);  // the plan keeps it in its arena
//   run_zero_skip_gemm(g, x, y, workspace.data());
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pitlane/runtime/graph.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/common.h"
#include "pitlane/runtime/large_buffer.h"

namespace pitlane::runtime::kernels {

// How the runs of weights are stored: all values, a mask and the nonzero values (pruned), or all
// values rounded to bf16 (bf16 plans: half the bytes again; inputs and sums stay fp32).
enum class ZeroSkipWeights : uint8_t { dense, sparse, bf16 };
// Weights with at least this fraction of zeros take the sparse runs (as for the sparse Gemm).
inline constexpr double kZeroSkipSparseRunsMinZeros = 0.4;

struct ZeroSkipGemm {
  int64_t m = 0, n = 0, k = 0;  // x [m,k], W [n,k], y [m,n]
  int64_t panels = 0;           // ceil(n / 64); panel p holds outputs [64p, 64p + width(p))
  // Dense: panels one after another, each [k][width]; the last panel's width is n's remainder
  // rounded up to 16 (its extra outputs hold zero weights and are never stored).
  // Sparse: the nonzero values of every run, run after run (panel-major, then column).
  // bf16: as dense, in bf16 (uint16, round to nearest even).
  std::unique_ptr<LargeBuffer> weights;
  ZeroSkipWeights format = ZeroSkipWeights::dense;
  std::vector<uint64_t> run_masks;  // sparse: [panels][k], bit j = output 64p + j is nonzero
  std::vector<uint32_t> run_start;  // sparse: [panels][k], the run's first value in `weights`
  std::vector<float> bias;          // [n], zeros when the Gemm has none
  FusedActivation activation;
  int threads = 1;
  bool avx512 = false;          // the AVX-512 kernel runs (from cpu_features(), at create time)
  size_t workspace_floats = 0;  // one list of up to k column numbers per thread

  int64_t width(int64_t panel) const;   // outputs stored in the panel (16, 32, 48 or 64)
  const float* panel(int64_t p) const;  // dense: the panel's [k][width] block; sparse: values
  const uint16_t* bf16_panel(int64_t p) const;  // bf16: the panel's [k][width] block
  double zero_fraction() const;                 // of the weights as packed (sparse), 0 for dense
  size_t storage_bytes() const;                 // weights and bias as held
};

// Packs W [n,k] (row-major) for batch m <= kZeroSkipMaxBatch; bias [n] may be null.
ZeroSkipGemm make_zero_skip_gemm(const float* w, int64_t n, int64_t k, const float* bias,
                                 const FusedActivation& activation, int64_t m, int threads,
                                 ZeroSkipWeights format = ZeroSkipWeights::dense);
// x [m,k] and y [m,n] row-major; workspace: g.workspace_floats floats. Does not allocate.
void run_zero_skip_gemm(const ZeroSkipGemm& g, const float* x, float* y, float* workspace);

}  // namespace pitlane::runtime::kernels
