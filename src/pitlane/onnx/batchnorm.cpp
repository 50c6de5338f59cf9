#include "pitlane/onnx/batchnorm.h"

#include <cmath>

#include "pitlane/core/error.h"

namespace pitlane::onnx {

ChannelAffine batchnorm_affine(std::span<const float> gamma, std::span<const float> beta,
                               std::span<const float> mean, std::span<const float> var,
                               float epsilon) {
  const size_t channels = gamma.size();
  if (beta.size() != channels || mean.size() != channels || var.size() != channels)
    throw RunError("batchnorm_affine: parameter sizes differ");
  ChannelAffine a{std::vector<double>(channels), std::vector<double>(channels)};
  for (size_t c = 0; c < channels; ++c) {
    a.scale[c] = gamma[c] / std::sqrt(static_cast<double>(var[c]) + epsilon);
    a.shift[c] = beta[c] - mean[c] * a.scale[c];
  }
  return a;
}

void fold_into_preceding(const ChannelAffine& affine, std::vector<float>& weight,
                         std::vector<float>& bias) {
  const size_t channels = affine.scale.size();
  if (channels == 0 || weight.size() % channels)
    throw RunError("fold_into_preceding: weights do not split into the affine's channels");
  if (bias.empty()) bias.assign(channels, 0.0f);
  const size_t per = weight.size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    for (size_t j = 0; j < per; ++j)
      weight[c * per + j] = static_cast<float>(weight[c * per + j] * affine.scale[c]);
    bias[c] = static_cast<float>(bias[c] * affine.scale[c] + affine.shift[c]);
  }
}

void fold_into_following(const ChannelAffine& affine, std::vector<float>& weight,
                         std::vector<float>& bias, int64_t in_per_group, int64_t taps) {
  const int64_t channels = static_cast<int64_t>(affine.scale.size());
  const int64_t per_out = in_per_group * taps;
  if (per_out <= 0 || static_cast<int64_t>(weight.size()) % per_out || channels % in_per_group)
    throw RunError("fold_into_following: weights do not match the affine's channels");
  const int64_t out = static_cast<int64_t>(weight.size()) / per_out;
  const int64_t groups = channels / in_per_group;
  if (out % groups) throw RunError("fold_into_following: output channels do not split in groups");
  const int64_t out_per_group = out / groups;
  if (bias.empty()) bias.assign(out, 0.0f);
  for (int64_t m = 0; m < out; ++m) {
    double acc = bias[m];
    for (int64_t cc = 0; cc < in_per_group; ++cc) {
      const int64_t ch = (m / out_per_group) * in_per_group + cc;
      float* w = &weight[(m * in_per_group + cc) * taps];
      for (int64_t j = 0; j < taps; ++j) {
        acc += static_cast<double>(w[j]) * affine.shift[ch];
        w[j] = static_cast<float>(w[j] * affine.scale[ch]);
      }
    }
    bias[m] = static_cast<float>(acc);
  }
}

}  // namespace pitlane::onnx
