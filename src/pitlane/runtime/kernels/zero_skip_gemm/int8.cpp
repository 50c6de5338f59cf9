// Zero-skipping int8 Gemm: packing at create time, the input list, the portable panel kernel, the
// requantizing epilogue and the run (threads over panels). The AVX-512 panel kernel is in
// int8_avx512vnni.cpp.
#include "pitlane/runtime/kernels/zero_skip_gemm/int8.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "pitlane/runtime/kernels/zero_skip_gemm/microkernels.h"

namespace pitlane::runtime::kernels {

namespace {

// The input of batch row b at c, as an integer (u8 or s8 bytes).
int32_t input(const ZeroSkipGemmInt8& g, const uint8_t* x, int64_t b, int64_t c) {
  const uint8_t v = x[b * g.k + c];
  return g.x_signed ? static_cast<int8_t>(v) : v;
}

// The inputs where some batch row differs from the zero point, in order; returns how many.
// Branch-free, as in the float kernel.
int64_t nonzero_columns(const ZeroSkipGemmInt8& g, const uint8_t* x, uint32_t* columns) {
  const auto zero = static_cast<uint8_t>(g.x_zero);  // the zero point's byte, u8 or s8
  int64_t count = 0;
  for (int64_t c = 0; c < g.k; ++c) {
    bool nonzero = false;
    for (int64_t b = 0; b < g.m; ++b) nonzero |= x[b * g.k + c] != zero;
    columns[count] = static_cast<uint32_t>(c);
    count += nonzero;
  }
  return count;
}

void panel_portable(const ZeroSkipGemmInt8& g, int64_t p, const uint8_t* x, const uint32_t* columns,
                    int64_t count, int32_t* acc) {
  std::fill(acc, acc + g.m * kZeroSkipPanel, 0);
  const int8_t* w = g.panel(p);
  for (int64_t i = 0; i < count; ++i) {
    const int8_t* run = w + columns[i] * kZeroSkipPanel;
    for (int64_t b = 0; b < g.m; ++b) {
      const int32_t xv = input(g, x, b, columns[i]) - g.x_zero;
      for (int64_t j = 0; j < kZeroSkipPanel; ++j)
        acc[b * kZeroSkipPanel + j] += xv * run[pair_position(j)];
    }
  }
}

// acc (bias added) to the output element, as the reference kernel's finish() computes it.
void store(const ZeroSkipGemmInt8& g, int32_t acc, int64_t j, void* y, int64_t at) {
  const float v = static_cast<float>(acc) * g.multiplier[j];
  if (g.output == ZeroSkipGemmInt8::Output::f32) {
    static_cast<float*>(y)[at] = std::max(v, g.lo);
    return;
  }
  const float q = std::nearbyint(std::min(std::max(v, g.lo), g.hi)) + g.y_zero;
  if (g.output == ZeroSkipGemmInt8::Output::u8)
    static_cast<uint8_t*>(y)[at] = static_cast<uint8_t>(q);
  else
    static_cast<int8_t*>(y)[at] = static_cast<int8_t>(q);
}

// One thread's share: its own input list, then its range of panels; acc: 4 x 64 int32 scratch.
void run_share(const ZeroSkipGemmInt8& g, const uint8_t* x, void* y, uint32_t* columns,
               int32_t* acc, int64_t p0, int64_t p1) {
  const int64_t count = nonzero_columns(g, x, columns);
  for (int64_t p = p0; p < p1; ++p) {
    if (g.avx512)
      zero_skip_int8_panel_avx512(g, p, x, columns, count, acc);
    else
      panel_portable(g, p, x, columns, count, acc);
    const int64_t j0 = p * kZeroSkipPanel, j1 = std::min(g.n, j0 + kZeroSkipPanel);
    for (int64_t b = 0; b < g.m; ++b)
      for (int64_t j = j0; j < j1; ++j)
        store(g, acc[b * kZeroSkipPanel + (j - j0)] + g.bias[j], j, y, b * g.n + j);
  }
}

}  // namespace

int64_t pair_position(int64_t j) {
  const int64_t v = j / 16, lane = j % 16;
  return (v >= 2 ? 32 : 0) + 8 * (lane / 4) + 4 * (v % 2) + lane % 4;
}

const int8_t* ZeroSkipGemmInt8::panel(int64_t p) const {
  return static_cast<const int8_t*>(weights->data()) + p * kZeroSkipPanel * k;
}

size_t ZeroSkipGemmInt8::storage_bytes() const {
  return weights->size() + bias.size() * sizeof(int32_t) + multiplier.size() * sizeof(float);
}

ZeroSkipGemmInt8 make_zero_skip_gemm_int8(const float* w, int64_t n, int64_t k, const float* bias,
                                          const QuantizedGemmParams& params, int64_t m,
                                          int threads) {
  ZeroSkipGemmInt8 g{.m = m,
                     .n = n,
                     .k = k,
                     .x_signed = params.x_signed,
                     .x_zero = params.x_zero,
                     .threads = threads};
  g.panels = (n + kZeroSkipPanel - 1) / kZeroSkipPanel;
  g.weights = std::make_unique<LargeBuffer>(static_cast<size_t>(g.panels * kZeroSkipPanel * k));
  auto* packed = static_cast<int8_t*>(g.weights->data());
  for (int64_t p = 0; p < g.panels; ++p)
    for (int64_t c = 0; c < k; ++c) {
      int8_t* run = packed + (p * k + c) * kZeroSkipPanel;
      for (int64_t j = 0; j < kZeroSkipPanel; ++j) {
        const int64_t row = p * kZeroSkipPanel + j;
        run[pair_position(j)] = row < n ? static_cast<int8_t>(w[row * k + c]) : int8_t{0};
      }
    }
  g.bias.assign(n, 0);
  if (bias)
    for (int64_t j = 0; j < n; ++j) g.bias[j] = static_cast<int32_t>(bias[j]);
  g.multiplier.resize(n);
  for (int64_t j = 0; j < n; ++j) {
    // The reference kernel's operation order, so that the products round alike.
    const float w_scale = params.w_scale[params.w_scale.size() == 1 ? 0 : j];
    g.multiplier[j] = params.requantize ? params.alpha * params.x_scale * w_scale / params.y_scale
                                        : params.alpha * params.x_scale * w_scale;
  }
  if (params.requantize) {
    const float qmin = params.y_signed ? -128.0f : 0.0f, qmax = params.y_signed ? 127.0f : 255.0f;
    g.output = params.y_signed ? ZeroSkipGemmInt8::Output::s8 : ZeroSkipGemmInt8::Output::u8;
    g.y_zero = static_cast<float>(params.y_zero);
    g.lo = qmin - g.y_zero;
    if (params.relu) g.lo = std::max(g.lo, 0.0f);
    g.hi = qmax - g.y_zero;
  } else {
    g.output = ZeroSkipGemmInt8::Output::f32;
    g.lo = params.relu ? 0.0f : -std::numeric_limits<float>::infinity();
  }
  g.avx512 = zero_skip_int8_avx512_runs(cpu_features());
  // Per thread: the input list (k) and the panel's int32 sums (4 x 64).
  g.workspace_floats =
      static_cast<size_t>((k + kZeroSkipMaxBatch * kZeroSkipPanel) * std::max(threads, 1));
  return g;
}

void run_zero_skip_gemm_int8(const ZeroSkipGemmInt8& g, const void* x, void* y, float* workspace) {
  static_assert(sizeof(float) == sizeof(uint32_t) && sizeof(float) == sizeof(int32_t));
  const auto* bytes = static_cast<const uint8_t*>(x);
  const int64_t per_thread = g.k + kZeroSkipMaxBatch * kZeroSkipPanel;
  auto scratch = [&](int64_t t) {
    float* base = workspace + t * per_thread;
    return std::pair{reinterpret_cast<uint32_t*>(base), reinterpret_cast<int32_t*>(base + g.k)};
  };
  // One thread runs without a parallel region (libgomp allocates a team even for one).
  if (g.threads <= 1) {
    const auto [columns, acc] = scratch(0);
    run_share(g, bytes, y, columns, acc, 0, g.panels);
    return;
  }
#pragma omp parallel num_threads(g.threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const auto [columns, acc] = scratch(t);
    run_share(g, bytes, y, columns, acc, g.panels * t / nt, g.panels * (t + 1) / nt);
  }
}

}  // namespace pitlane::runtime::kernels
