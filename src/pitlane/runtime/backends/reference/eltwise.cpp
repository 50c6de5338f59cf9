// Reference element-wise activations and the per-channel affine (unfolded BatchNormalization).
#include <cmath>

#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {

void apply_activation(const FusedActivation& act, std::span<float> y) {
  switch (act.kind) {
    case Activation::none:
      return;
    case Activation::relu:
      for (float& v : y) v = v > 0.0f ? v : 0.0f;
      return;
    case Activation::leaky_relu:
      for (float& v : y) v = v >= 0.0f ? v : act.alpha * v;
      return;
    case Activation::elu:
      for (float& v : y) v = v >= 0.0f ? v : act.alpha * std::expm1(v);
      return;
    case Activation::sigmoid:
      for (float& v : y) v = 1.0f / (1.0f + std::exp(-v));
      return;
    case Activation::tanh:
      for (float& v : y) v = std::tanh(v);
      return;
  }
}

void affine(const AffineParams& p, const float* x, const float* scale, const float* shift,
            float* y) {
  for (int64_t o = 0; o < p.outer; ++o) {
    for (int64_t c = 0; c < p.channels; ++c) {
      const float s = scale[c], t = shift[c];
      const int64_t base = (o * p.channels + c) * p.inner;
      for (int64_t i = 0; i < p.inner; ++i) y[base + i] = x[base + i] * s + t;
    }
  }
  apply_activation(p.activation, {y, static_cast<size_t>(p.outer * p.channels * p.inner)});
}

}  // namespace pitlane::runtime::reference
