// Reference 2-D convolution: direct loops, NCHW, zero padding, groups, dilation.
#include <algorithm>

#include "pitlane/runtime/backends/reference/kernels.h"

namespace pitlane::runtime::reference {

void conv2d(const ConvParams& p, const float* x, const float* weights, const float* bias,
            float* y) {
  const int64_t cg = p.c / p.group, ocg = p.oc / p.group;
  for (int64_t n = 0; n < p.n; ++n) {
    for (int64_t g = 0; g < p.group; ++g) {
      for (int64_t m = 0; m < ocg; ++m) {
        const int64_t oc = g * ocg + m;
        float* out = y + ((n * p.oc + oc) * p.oh) * p.ow;
        const float b = p.has_bias ? bias[oc] : 0.0f;
        std::fill(out, out + p.oh * p.ow, b);
        for (int64_t ci = 0; ci < cg; ++ci) {
          const float* in = x + (n * p.c + g * cg + ci) * p.h * p.w;
          const float* wk = weights + ((oc * cg + ci) * p.kh) * p.kw;
          for (int64_t ky = 0; ky < p.kh; ++ky) {
            for (int64_t kx = 0; kx < p.kw; ++kx) {
              const float wv = wk[ky * p.kw + kx];
              for (int64_t oy = 0; oy < p.oh; ++oy) {
                const int64_t iy = oy * p.sh - p.pad_top + ky * p.dh;
                if (iy < 0 || iy >= p.h) continue;
                const float* row = in + iy * p.w;
                float* orow = out + oy * p.ow;
                for (int64_t ox = 0; ox < p.ow; ++ox) {
                  const int64_t ix = ox * p.sw - p.pad_left + kx * p.dw;
                  if (ix >= 0 && ix < p.w) orow[ox] += wv * row[ix];
                }
              }
            }
          }
        }
      }
    }
  }
  apply_activation(p.activation, {y, static_cast<size_t>(p.n * p.oc * p.oh * p.ow)});
}

}  // namespace pitlane::runtime::reference
