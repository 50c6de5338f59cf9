// Reference quantized kernels: QuantizeLinear / DequantizeLinear, the dynamic quantization
// parameters, and one integer convolution and one integer matrix product that serve QLinearConv,
// ConvInteger, QLinearMatMul, MatMulInteger and QGemm. Tensor values are integer-valued floats
// (see DType); products are accumulated exactly in int64 and requantized the way ONNX Runtime's
// MLAS does (float multiplier x_scale * w_scale / y_scale, round half to even, saturate).
#include <algorithm>
#include <cmath>

#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {
namespace {

float saturate(float v, float lo, float hi) {
  return std::min(std::max(v, lo), hi);
}

// std::nearbyint for |v| < 2^22 in the default rounding mode (half to even), as plain adds the
// compiler can vectorize on any x86-64 (nearbyint is a library call without SSE4.1): adding
// 1.5 * 2^23 leaves no fraction bits, so the add rounds, and subtracting it back is exact.
float round_half_even(float v) {
  constexpr float shift = 12582912.0f;  // 1.5 * 2^23
  return (v + shift) - shift;
}

// The zero point and scale of channel `c` (per tensor when the tensor holds one value).
float param(const float* p, bool per_channel, int64_t c, float fallback) {
  return p ? p[per_channel ? c : 0] : fallback;
}

// From the int32 accumulator of output channel `c` to the output element.
float finish(const QuantParams& q, std::span<const float* const> in, int64_t acc, int64_t c) {
  const float w_scale =
      param(q.at.w_scale >= 0 ? in[q.at.w_scale] : nullptr, q.w_scale_per_channel, c, 1.0f);
  switch (q.output) {
    case QuantOutput::int32:
      return static_cast<float>(acc);
    case QuantOutput::dequantized: {
      float v = static_cast<float>(acc) * (q.alpha * in[q.at.x_scale][0] * w_scale);
      if (q.activation.kind == Activation::relu) v = std::max(v, 0.0f);
      return v;
    }
    case QuantOutput::requantized:
      break;
  }
  const float multiplier = q.alpha * in[q.at.x_scale][0] * w_scale / in[q.at.y_scale][0];
  const float zp = q.at.y_zp >= 0 && in[q.at.y_zp] ? in[q.at.y_zp][0] : 0.0f;
  float lo = q.qmin - zp;
  if (q.activation.kind == Activation::relu) lo = std::max(lo, 0.0f);
  const float v = saturate(static_cast<float>(acc) * multiplier, lo, q.qmax - zp);
  return std::nearbyint(v) + zp;
}

// The integer operands of a quantized conv or gemm, found through q.at.
struct IntegerOperands {
  const float* x;
  const float* w;
  const float* w_zp;  // null: zero
  const float* bias;  // null: none
  int64_t x_zero;     // the input's zero point (per tensor)
};

IntegerOperands integer_operands(const QuantParams& q, std::span<const float* const> in) {
  const float* x_zp = q.at.x_zp >= 0 ? in[q.at.x_zp] : nullptr;
  return {in[q.at.x], in[q.at.w], q.at.w_zp >= 0 ? in[q.at.w_zp] : nullptr,
          q.at.bias >= 0 ? in[q.at.bias] : nullptr,
          static_cast<int64_t>(param(x_zp, false, 0, 0.0f))};
}

}  // namespace

void quantize_linear(const QuantizeParams& p, const float* x, const float* scale, const float* zp,
                     float* y) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t c = 0; c < p.channels; ++c) {
      const float s = scale[p.per_channel ? c : 0];
      const float z = param(zp, p.per_channel, c, 0.0f);
      const int64_t base = (o * p.channels + c) * p.inner;
      // Saturating before rounding is the same (the bounds are integers) and keeps |v| small.
      for (int64_t i = 0; i < p.inner; ++i)
        y[base + i] = round_half_even(saturate(x[base + i] / s, p.qmin - z, p.qmax - z)) + z;
    }
}

void dequantize_linear(const QuantizeParams& p, const float* x, const float* scale, const float* zp,
                       float* y) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t c = 0; c < p.channels; ++c) {
      const float s = scale[p.per_channel ? c : 0];
      const float z = param(zp, p.per_channel, c, 0.0f);
      const int64_t base = (o * p.channels + c) * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) y[base + i] = (x[base + i] - z) * s;
    }
}

DynamicQuantization dynamic_quantization(std::span<const float> x) {
  // The range always includes zero. Sixteen running minima and maxima, so that the loop is
  // elementwise (vectorized) rather than one dependent chain; min and max give the same result in
  // any order.
  constexpr size_t kLanes = 16;
  float lo_lanes[kLanes] = {}, hi_lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= x.size(); i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) {
      lo_lanes[j] = std::min(lo_lanes[j], x[i + j]);
      hi_lanes[j] = std::max(hi_lanes[j], x[i + j]);
    }
  for (size_t j = 0; i + j < x.size(); ++j) {
    lo_lanes[j] = std::min(lo_lanes[j], x[i + j]);
    hi_lanes[j] = std::max(hi_lanes[j], x[i + j]);
  }
  float lo = 0.0f, hi = 0.0f;
  for (size_t j = 0; j < kLanes; ++j) {
    lo = std::min(lo, lo_lanes[j]);
    hi = std::max(hi, hi_lanes[j]);
  }
  DynamicQuantization q;
  q.scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
  q.zero_point = std::nearbyint(saturate(0.0f - lo / q.scale, 0.0f, 255.0f));
  return q;
}

void quantized_conv2d(const ConvParams& p, const QuantParams& q, std::span<const float* const> in,
                      float* y) {
  const auto [x, w, w_zp, bias, xz] = integer_operands(q, in);
  const int64_t cg = p.c / p.group, ocg = p.oc / p.group;
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t oc = 0; oc < p.oc; ++oc) {
      const int64_t g = oc / ocg;
      const int64_t wz = static_cast<int64_t>(param(w_zp, q.w_zp_per_channel, oc, 0.0f));
      const float* wk = w + oc * cg * p.kh * p.kw;
      float* out = y + (n * p.oc + oc) * p.oh * p.ow;
      for (int64_t oy = 0; oy < p.oh; ++oy)
        for (int64_t ox = 0; ox < p.ow; ++ox) {
          int64_t acc = bias ? static_cast<int64_t>(bias[oc]) : 0;
          for (int64_t ci = 0; ci < cg; ++ci) {
            const float* plane = x + (n * p.c + g * cg + ci) * p.h * p.w;
            for (int64_t ky = 0; ky < p.kh; ++ky) {
              const int64_t iy = oy * p.sh - p.pad_top + ky * p.dh;
              if (iy < 0 || iy >= p.h) continue;  // padding holds the zero point: adds 0
              for (int64_t kx = 0; kx < p.kw; ++kx) {
                const int64_t ix = ox * p.sw - p.pad_left + kx * p.dw;
                if (ix < 0 || ix >= p.w) continue;
                const int64_t xv = static_cast<int64_t>(plane[iy * p.w + ix]) - xz;
                const int64_t wv = static_cast<int64_t>(wk[(ci * p.kh + ky) * p.kw + kx]) - wz;
                acc += xv * wv;
              }
            }
          }
          out[oy * p.ow + ox] = finish(q, in, acc, oc);
        }
    }
}

void quantized_gemm(const GemmParams& p, const QuantParams& q, std::span<const float* const> in,
                    float* y) {
  const auto [a, b, b_zp, bias, az] = integer_operands(q, in);
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      const int64_t bz = static_cast<int64_t>(param(b_zp, q.w_zp_per_channel, j, 0.0f));
      int64_t acc = 0;
      for (int64_t l = 0; l < p.k; ++l) {
        const float av = p.trans_a ? a[l * p.m + i] : a[i * p.k + l];
        const float bv = p.trans_b ? b[j * p.k + l] : b[l * p.n + j];
        acc += (static_cast<int64_t>(av) - az) * (static_cast<int64_t>(bv) - bz);
      }
      if (bias) acc += static_cast<int64_t>(bias[p.bias == BiasKind::scalar ? 0 : j]);
      y[i * p.n + j] = finish(q, in, acc, j);
    }
}

}  // namespace pitlane::runtime::reference
