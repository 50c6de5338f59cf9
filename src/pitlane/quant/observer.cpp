#include "pitlane/quant/observer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pitlane/core/error.h"

namespace pitlane::quant {

CalibrationMethod parse_calibration_method(const std::string& name) {
  if (name == "minmax") return CalibrationMethod::minmax;
  if (name == "percentile") return CalibrationMethod::percentile;
  if (name == "entropy") return CalibrationMethod::entropy;
  if (name == "mse") return CalibrationMethod::mse;
  throw InputError("--calib-method '" + name +
                   "' is unknown; use minmax, percentile, entropy or mse");
}

const char* calibration_method_name(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::minmax:
      return "minmax";
    case CalibrationMethod::percentile:
      return "percentile";
    case CalibrationMethod::entropy:
      return "entropy";
    case CalibrationMethod::mse:
      return "mse";
  }
  return "?";
}

void RangeObserver::observe_min_max(std::span<const float> x) {
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
}

void RangeObserver::start_histogram() {
  hist_.assign(kBins, 0.0);
  abs_hist_.assign(kBins, 0.0);
}

void RangeObserver::observe_histogram(std::span<const float> x) {
  const double width = (static_cast<double>(max_) - min_) / kBins;
  const double abs_max = std::max(-min_, max_);
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    if (width > 0) {
      const int b = static_cast<int>((v - min_) / width);
      hist_[std::clamp(b, 0, kBins - 1)] += 1;
    }
    // Exact zeros (half of a Relu output) are exact at any threshold: leaving them out keeps
    // their spike from dominating the entropy search and dragging the threshold down.
    if (abs_max > 0 && v != 0.0f) {
      const int b = static_cast<int>(std::abs(v) / abs_max * kBins);
      abs_hist_[std::clamp(b, 0, kBins - 1)] += 1;
    }
  }
}

Range RangeObserver::range(CalibrationMethod method) const {
  if (max_ - min_ <= 0 || hist_.empty()) return {min_, max_};
  switch (method) {
    case CalibrationMethod::minmax:
      return {min_, max_};
    case CalibrationMethod::percentile:
      return percentile_range();
    case CalibrationMethod::entropy:
      return entropy_range();
    case CalibrationMethod::mse:
      return mse_range();
  }
  return {min_, max_};
}

Range RangeObserver::percentile_range() const {
  double total = 0;
  for (double c : hist_) total += c;
  const double cut = total * (100.0 - kPercentile) / 100.0;
  const double width = (static_cast<double>(max_) - min_) / kBins;
  int lo = 0, hi = kBins - 1;
  for (double acc = 0; lo < kBins - 1 && acc + hist_[lo] <= cut; ++lo) acc += hist_[lo];
  for (double acc = 0; hi > 0 && acc + hist_[hi] <= cut; --hi) acc += hist_[hi];
  return {std::min(0.0f, static_cast<float>(min_ + lo * width)),
          std::max(0.0f, static_cast<float>(min_ + (hi + 1) * width))};
}

// TensorRT's entropy calibration on the magnitudes: the threshold whose 255-level (or 127-level
// for signed tensors) quantization of the clipped histogram loses the least information (KL).
Range RangeObserver::entropy_range() const {
  const bool signed_tensor = min_ < 0 && max_ > 0;
  const int levels = signed_tensor ? 128 : 256;
  const double abs_max = std::max(-min_, max_);
  double best_kl = std::numeric_limits<double>::infinity();
  int best = kBins;
  std::vector<double> p, q;
  for (int i = levels; i <= kBins; i += 16) {
    p.assign(abs_hist_.begin(), abs_hist_.begin() + i);
    double outliers = 0;
    for (int j = i; j < kBins; ++j) outliers += abs_hist_[j];
    p.back() += outliers;
    // q: p's first i bins merged into `levels` groups, each spread back over its non-empty bins.
    q.assign(i, 0.0);
    for (int l = 0; l < levels; ++l) {
      const int b0 = l * i / levels, b1 = (l + 1) * i / levels;
      double sum = 0;
      int nonzero = 0;
      for (int b = b0; b < b1; ++b) {
        sum += abs_hist_[b];
        nonzero += abs_hist_[b] > 0;
      }
      for (int b = b0; b < b1; ++b)
        if (abs_hist_[b] > 0) q[b] = sum / nonzero;
    }
    double ps = 0, qs = 0;
    for (int b = 0; b < i; ++b) ps += p[b], qs += q[b];
    if (ps <= 0 || qs <= 0) continue;
    double kl = 0;
    for (int b = 0; b < i; ++b) {
      if (p[b] <= 0) continue;
      const double pb = p[b] / ps, qb = q[b] > 0 ? q[b] / qs : 1e-12;
      kl += pb * std::log(pb / qb);
    }
    if (kl < best_kl) best_kl = kl, best = i;
  }
  const float t = static_cast<float>(abs_max * best / kBins);
  return {std::max(min_, -t), std::min(max_, t)};
}

// The clipping that minimizes the expected squared quantization error over the histogram.
Range RangeObserver::mse_range() const {
  const double width = (static_cast<double>(max_) - min_) / kBins;
  double best_err = std::numeric_limits<double>::infinity();
  Range best{min_, max_};
  for (int step = 0; step < 100; ++step) {
    const double f = 1.0 - step * 0.009;  // 100% down to ~11% of the observed range
    const Range r{static_cast<float>(min_ * f), static_cast<float>(max_ * f)};
    const AffineParams a = affine_params(r, false);
    double err = 0;
    for (int b = 0; b < kBins; ++b) {
      if (hist_[b] <= 0) continue;
      const double x = min_ + (b + 0.5) * width;
      const double q =
          std::clamp(std::nearbyint(x / a.scale) + a.zero_point, 0.0, 255.0) - a.zero_point;
      const double d = x - q * a.scale;
      err += hist_[b] * d * d;
    }
    if (err < best_err) best_err = err, best = r;
  }
  return best;
}

AffineParams affine_params(Range r, bool int8) {
  const double lo = std::min(0.0f, r.min), hi = std::max(0.0f, r.max);
  AffineParams p;
  if (hi - lo <= 0) return p;  // an all-zero tensor: any scale represents it exactly
  p.scale = static_cast<float>((hi - lo) / 255.0);
  const double qmin = int8 ? -128.0 : 0.0;
  p.zero_point =
      static_cast<int32_t>(std::clamp(std::nearbyint(qmin - lo / p.scale), qmin, qmin + 255));
  return p;
}

}  // namespace pitlane::quant
