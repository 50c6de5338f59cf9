// The reference backend's quantization kernels against independent computations: QuantizeLinear's
// rounding (half to even, at every tie between -300 and 300, and on random values against
// std::nearbyint) with saturation, and DynamicQuantizeLinear's parameters against a plain
// min/max pass (lengths around the 16-lane blocks, all-positive, all-negative, zero ranges).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {
namespace {

// The ONNX definition, written directly: saturate(nearbyint(x / scale) + zero_point).
float quantize_oracle(float x, float scale, float zp, float qmin, float qmax) {
  return std::min(std::max(std::nearbyint(x / scale) + zp, qmin), qmax);
}

TEST(ReferenceQuantize, RoundsHalfToEvenAndSaturates) {
  std::vector<float> x;
  for (int i = -600; i <= 600; ++i) x.push_back(static_cast<float>(i) / 2.0f);  // every tie
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-400.0f, 400.0f);
  for (int i = 0; i < 2000; ++i) x.push_back(u(rng));
  x.push_back(-0.0f);
  for (auto [qmin, qmax, zp] : {std::tuple{0.0f, 255.0f, 128.0f}, std::tuple{0.0f, 255.0f, 0.0f},
                                std::tuple{-128.0f, 127.0f, -7.0f}}) {
    for (float scale : {1.0f, 0.5f, 0.037f}) {
      const QuantizeParams p{.outer = 1,
                             .channels = 1,
                             .inner = static_cast<int64_t>(x.size()),
                             .qmin = qmin,
                             .qmax = qmax};
      std::vector<float> y(x.size());
      quantize_linear(p, x.data(), &scale, &zp, y.data());
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(y[i], quantize_oracle(x[i], scale, zp, qmin, qmax))
            << "x " << x[i] << " scale " << scale << " zero point " << zp;
    }
  }
}

TEST(ReferenceQuantize, NaNStaysNaN) {
  const float x = NAN, scale = 0.1f, zp = 3.0f;
  float y = 0.0f;
  quantize_linear({.outer = 1, .channels = 1, .inner = 1}, &x, &scale, &zp, &y);
  EXPECT_TRUE(std::isnan(y));
}

TEST(ReferenceQuantize, DynamicParametersMatchAPlainMinMax) {
  std::mt19937 rng(5);
  for (size_t n : {1u, 15u, 16u, 17u, 33u, 1000u}) {
    for (auto [lo, hi] : {std::pair{-3.0f, 2.0f}, std::pair{0.5f, 4.0f}, std::pair{-6.0f, -1.0f},
                          std::pair{0.0f, 0.0f}}) {
      std::uniform_real_distribution<float> u(lo, hi);
      std::vector<float> x(n);
      for (float& v : x) v = lo == hi ? lo : u(rng);
      float mn = 0.0f, mx = 0.0f;  // the range includes zero
      for (float v : x) {
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      }
      const float scale = mx == mn ? 1.0f : (mx - mn) / 255.0f;
      const DynamicQuantization q = dynamic_quantization(x);
      EXPECT_EQ(q.scale, scale) << n;
      EXPECT_EQ(q.zero_point, std::nearbyint(std::min(std::max(-mn / scale, 0.0f), 255.0f))) << n;
    }
  }
}

}  // namespace
}  // namespace pitlane::runtime::reference
