// Zero-skipping fp32 Gemm: packing at create time, the column list, the portable panel kernel
// and the run (threads over panels). The AVX-512 panel kernels are in f32_avx512f.cpp.
#include "pitlane/runtime/kernels/zero_skip_gemm/f32.h"

#include <omp.h>

#include <algorithm>
#include <bit>

#include "pitlane/runtime/backends/reference/kernels.h"
#include "pitlane/runtime/kernels/zero_skip_gemm/microkernels.h"

namespace pitlane::runtime::kernels {

namespace {

// The columns where some batch row of x is nonzero, in order; returns how many. Branch-free:
// whether a ReLU output is zero is a coin toss the branch predictor cannot learn.
int64_t nonzero_columns(const ZeroSkipGemm& g, const float* x, uint32_t* columns) {
  int64_t count = 0;
  for (int64_t c = 0; c < g.k; ++c) {
    bool nonzero = false;
    for (int64_t b = 0; b < g.m; ++b) nonzero |= x[b * g.k + c] != 0.0f;
    columns[count] = static_cast<uint32_t>(c);
    count += nonzero;
  }
  return count;
}

uint16_t float_to_bf16(float v) {
  const auto bits = std::bit_cast<uint32_t>(v);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);  // nearest even
}

float bf16_to_float(uint16_t v) {
  return std::bit_cast<float>(static_cast<uint32_t>(v) << 16);
}

// Bias included, activation not.
void panel_portable(const ZeroSkipGemm& g, int64_t p, const float* x, const uint32_t* columns,
                    int64_t count, float* y) {
  const int64_t width = g.width(p), j0 = p * kZeroSkipPanel;
  const int64_t outputs = std::min(width, g.n - j0);
  const float* w = g.panel(p);
  float acc[kZeroSkipMaxBatch][kZeroSkipPanel] = {};
  for (int64_t i = 0; i < count; ++i) {
    const int64_t c = columns[i];
    if (g.format == ZeroSkipWeights::dense) {
      const float* row = w + c * width;
      for (int64_t b = 0; b < g.m; ++b)
        for (int64_t j = 0; j < width; ++j) acc[b][j] += x[b * g.k + c] * row[j];
      continue;
    }
    if (g.format == ZeroSkipWeights::bf16) {
      const uint16_t* row = g.bf16_panel(p) + c * width;
      for (int64_t b = 0; b < g.m; ++b)
        for (int64_t j = 0; j < width; ++j) acc[b][j] += x[b * g.k + c] * bf16_to_float(row[j]);
      continue;
    }
    const float* v = w + g.run_start[p * g.k + c];
    for (uint64_t bits = g.run_masks[p * g.k + c]; bits; bits &= bits - 1, ++v)
      for (int64_t b = 0; b < g.m; ++b) acc[b][std::countr_zero(bits)] += x[b * g.k + c] * *v;
  }
  for (int64_t b = 0; b < g.m; ++b)
    for (int64_t j = 0; j < outputs; ++j) y[b * g.n + j0 + j] = acc[b][j] + g.bias[j0 + j];
}

// One thread's share: its own column list, then its range of panels.
void run_share(const ZeroSkipGemm& g, const float* x, float* y, uint32_t* columns, int64_t p0,
               int64_t p1) {
  const int64_t count = nonzero_columns(g, x, columns);
  // The AVX-512 kernel applies ReLU itself; other activations run on the panel's outputs.
  const bool activation_done =
      g.activation.kind == Activation::none || (g.avx512 && g.activation.kind == Activation::relu);
  for (int64_t p = p0; p < p1; ++p) {
    if (!g.avx512)
      panel_portable(g, p, x, columns, count, y);
    else if (g.format == ZeroSkipWeights::dense)
      zero_skip_panel_avx512(g, p, x, columns, count, y);
    else if (g.format == ZeroSkipWeights::sparse)
      zero_skip_sparse_panel_avx512(g, p, x, columns, count, y);
    else
      zero_skip_bf16_panel_avx512(g, p, x, columns, count, y);
    if (activation_done) continue;
    const int64_t j0 = p * kZeroSkipPanel, j1 = std::min(g.n, j0 + kZeroSkipPanel);
    for (int64_t b = 0; b < g.m; ++b)
      reference::apply_activation(g.activation, {y + b * g.n + j0, static_cast<size_t>(j1 - j0)});
  }
}

}  // namespace

int64_t ZeroSkipGemm::width(int64_t p) const {
  const int64_t rest = n - p * kZeroSkipPanel;
  return rest >= kZeroSkipPanel ? kZeroSkipPanel : (rest + 15) / 16 * 16;
}

const uint16_t* ZeroSkipGemm::bf16_panel(int64_t p) const {
  return static_cast<const uint16_t*>(weights->data()) + p * kZeroSkipPanel * k;
}

const float* ZeroSkipGemm::panel(int64_t p) const {
  const auto* values = static_cast<const float*>(weights->data());
  return format == ZeroSkipWeights::dense ? values + p * kZeroSkipPanel * k : values;
}

double ZeroSkipGemm::zero_fraction() const {
  if (format != ZeroSkipWeights::sparse) return 0.0;
  const double nonzeros = static_cast<double>(weights->size()) / sizeof(float);
  return 1.0 - nonzeros / static_cast<double>(n * k);
}

size_t ZeroSkipGemm::storage_bytes() const {
  return weights->size() + bias.size() * sizeof(float) + run_masks.size() * sizeof(uint64_t) +
         run_start.size() * sizeof(uint32_t);
}

ZeroSkipGemm make_zero_skip_gemm(const float* w, int64_t n, int64_t k, const float* bias,
                                 const FusedActivation& activation, int64_t m, int threads,
                                 ZeroSkipWeights format) {
  ZeroSkipGemm g{
      .m = m, .n = n, .k = k, .format = format, .activation = activation, .threads = threads};
  g.panels = (n + kZeroSkipPanel - 1) / kZeroSkipPanel;
  const auto weight = [&](int64_t p, int64_t c, int64_t j) {
    const int64_t row = p * kZeroSkipPanel + j;
    return row < n ? w[row * k + c] : 0.0f;
  };
  // Dense and bf16: every panel [k][width], converted by `store`.
  const auto pack = [&]<class T>(T* packed, auto store) {
    for (int64_t p = 0; p < g.panels; ++p) {
      const int64_t width = g.width(p);
      T* panel = packed + p * kZeroSkipPanel * k;
      for (int64_t c = 0; c < k; ++c)
        for (int64_t j = 0; j < width; ++j) panel[c * width + j] = store(weight(p, c, j));
    }
  };
  const auto stored =
      static_cast<size_t>(((g.panels - 1) * kZeroSkipPanel + g.width(g.panels - 1)) * k);
  if (format == ZeroSkipWeights::dense) {
    g.weights = std::make_unique<LargeBuffer>(stored * sizeof(float));
    pack(static_cast<float*>(g.weights->data()), [](float v) { return v; });
  } else if (format == ZeroSkipWeights::bf16) {
    g.weights = std::make_unique<LargeBuffer>(stored * sizeof(uint16_t));
    pack(static_cast<uint16_t*>(g.weights->data()), float_to_bf16);
  } else {
    std::vector<float> values;
    g.run_masks.assign(g.panels * k, 0);
    g.run_start.assign(g.panels * k, 0);
    for (int64_t p = 0; p < g.panels; ++p)
      for (int64_t c = 0; c < k; ++c) {
        g.run_start[p * k + c] = static_cast<uint32_t>(values.size());
        for (int64_t j = 0; j < g.width(p); ++j) {
          const float v = weight(p, c, j);
          if (v == 0.0f) continue;
          g.run_masks[p * k + c] |= uint64_t{1} << j;
          values.push_back(v);
        }
      }
    g.weights = std::make_unique<LargeBuffer>(values.size() * sizeof(float));
    std::copy(values.begin(), values.end(), static_cast<float*>(g.weights->data()));
  }
  g.bias.assign(n, 0.0f);
  if (bias) std::copy(bias, bias + n, g.bias.begin());
  g.avx512 = zero_skip_f32_avx512_runs(cpu_features());
  g.workspace_floats = static_cast<size_t>(k * std::max(threads, 1));
  return g;
}

void run_zero_skip_gemm(const ZeroSkipGemm& g, const float* x, float* y, float* workspace) {
  static_assert(sizeof(float) == sizeof(uint32_t));
  auto* columns = reinterpret_cast<uint32_t*>(workspace);
  // One thread runs without a parallel region: libgomp allocates the team of a region even
  // when it runs serially.
  if (g.threads <= 1) {
    run_share(g, x, y, columns, 0, g.panels);
    return;
  }
#pragma omp parallel num_threads(g.threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    run_share(g, x, y, columns + t * g.k, g.panels * t / nt, g.panels * (t + 1) / nt);
  }
}

}  // namespace pitlane::runtime::kernels
