// BatchNormalization folding: the one place its inference form is computed and merged into a
// neighbouring layer's weights. Used by the runtime's passes (any graph), the quantization
// recipes (before int8 conversion) and training (PilotNet's input normalization). Computed in
// double and rounded once, so every caller gets the same weights.
//
//   ChannelAffine bn = batchnorm_affine(gamma, beta, mean, var, 1e-5f);
//   fold_into_following(bn, conv_w, conv_b, /*in_channels per group=*/3, /*taps=*/25);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace pitlane::onnx {

// y[c] = x[c] * scale[c] + shift[c]: what an inference BatchNormalization computes.
struct ChannelAffine {
  std::vector<double> scale;  // gamma / sqrt(var + epsilon)
  std::vector<double> shift;  // beta - mean * scale
};

ChannelAffine batchnorm_affine(std::span<const float> gamma, std::span<const float> beta,
                               std::span<const float> mean, std::span<const float> var,
                               float epsilon);

// A layer followed by the affine: its weight rows (C rows of any length) and bias (C values;
// empty = zeros, resized) absorb it.
void fold_into_preceding(const ChannelAffine& affine, std::vector<float>& weight,
                         std::vector<float>& bias);

// The affine followed by a convolution without padding (padded zeros would not be shifted):
// weight [OC, in_per_group, taps] in grouped order, bias [OC] (empty = zeros, resized). Exact up
// to rounding.
void fold_into_following(const ChannelAffine& affine, std::vector<float>& weight,
                         std::vector<float>& bias, int64_t in_per_group, int64_t taps);

}  // namespace pitlane::onnx
