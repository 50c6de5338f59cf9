// BatchNormalization folding against the unfolded computation (the layer, then the affine; or
// the affine, then the layer), evaluated in double on seeded weights.
#include "pitlane/onnx/batchnorm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pitlane/core/rng.h"

namespace pitlane::onnx {
namespace {

std::vector<float> random(size_t n, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform(lo, hi));
  return v;
}

TEST(BatchNorm, AffineByHand) {
  // gamma 2, beta 1, mean 3, var 4 - eps: scale 2 / 2 = 1, shift 1 - 3 = -2.
  const ChannelAffine a =
      batchnorm_affine(std::vector<float>{2.0f}, std::vector<float>{1.0f}, std::vector<float>{3.0f},
                       std::vector<float>{3.75f}, 0.25f);
  EXPECT_DOUBLE_EQ(a.scale[0], 1.0);
  EXPECT_DOUBLE_EQ(a.shift[0], -2.0);
}

ChannelAffine random_affine(int64_t channels, Rng& rng) {
  return batchnorm_affine(random(channels, rng, 0.5, 2.0), random(channels, rng),
                          random(channels, rng), random(channels, rng, 0.1, 3.0), 1e-5f);
}

// A grouped "convolution" over one input patch: out[m] = b[m] + sum_{c,j} w[m,c,j] x[group(m),c,j].
std::vector<double> apply(const std::vector<float>& w, const std::vector<float>& b,
                          const std::vector<double>& x, int64_t out, int64_t in_per_group,
                          int64_t taps, int64_t groups) {
  std::vector<double> y(out);
  const int64_t out_per_group = out / groups;
  for (int64_t m = 0; m < out; ++m) {
    double acc = b.empty() ? 0.0 : b[m];
    for (int64_t c = 0; c < in_per_group; ++c)
      for (int64_t j = 0; j < taps; ++j) {
        const int64_t ch = (m / out_per_group) * in_per_group + c;
        acc += static_cast<double>(w[(m * in_per_group + c) * taps + j]) * x[ch * taps + j];
      }
    y[m] = acc;
  }
  return y;
}

TEST(BatchNorm, FoldIntoFollowingConvMatchesAffineThenConv) {
  for (int64_t groups : {1, 2}) {
    Rng rng(7 + groups);
    const int64_t channels = 4, in_per_group = channels / groups, out = 6, taps = 9;
    const ChannelAffine bn = random_affine(channels, rng);
    std::vector<float> w = random(out * in_per_group * taps, rng), b = random(out, rng);
    std::vector<double> x(channels * taps), normalized(channels * taps);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t j = 0; j < taps; ++j) {
        x[c * taps + j] = rng.uniform(-3.0, 3.0);
        normalized[c * taps + j] = x[c * taps + j] * bn.scale[c] + bn.shift[c];
      }
    const auto want = apply(w, b, normalized, out, in_per_group, taps, groups);
    fold_into_following(bn, w, b, in_per_group, taps);
    const auto got = apply(w, b, x, out, in_per_group, taps, groups);
    for (int64_t m = 0; m < out; ++m) EXPECT_NEAR(got[m], want[m], 1e-5) << groups << " " << m;
  }
}

TEST(BatchNorm, FoldIntoPrecedingLayerMatchesLayerThenAffine) {
  Rng rng(3);
  const int64_t channels = 5, per = 7;
  const ChannelAffine bn = random_affine(channels, rng);
  std::vector<float> w = random(channels * per, rng), b;  // no bias: zeros
  std::vector<double> x(per);
  for (double& v : x) v = rng.uniform(-2.0, 2.0);
  std::vector<double> want(channels);
  for (int64_t c = 0; c < channels; ++c) {
    double y = 0.0;
    for (int64_t j = 0; j < per; ++j) y += w[c * per + j] * x[j];
    want[c] = y * bn.scale[c] + bn.shift[c];
  }
  fold_into_preceding(bn, w, b);
  ASSERT_EQ(b.size(), static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    double y = b[c];
    for (int64_t j = 0; j < per; ++j) y += w[c * per + j] * x[j];
    EXPECT_NEAR(y, want[c], 1e-5) << c;
  }
}

}  // namespace
}  // namespace pitlane::onnx
