// Calibration observers: the range of one activation tensor over the calibration images, and the
// four ways of choosing the quantization range from it (ONNX Runtime's and TensorRT's methods).
//
// Two passes over the data: the first finds min and max, the second fills histograms over that
// range (2048 bins of the values, 2048 of their magnitudes).
//
//   RangeObserver obs;
//   for (batch : data) obs.observe_min_max(values);
//   obs.start_histogram();
//   for (batch : data) obs.observe_histogram(values);
//   Range r = obs.range(CalibrationMethod::entropy);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pitlane::quant {

enum class CalibrationMethod { minmax, percentile, entropy, mse };
// "minmax" | "percentile" | "entropy" | "mse"; InputError naming the choices otherwise.
CalibrationMethod parse_calibration_method(const std::string& name);
const char* calibration_method_name(CalibrationMethod m);

struct Range {
  float min = 0.0f;  // always <= 0 (the range holds zero, so zero is exact)
  float max = 0.0f;  // always >= 0
};

class RangeObserver {
 public:
  static constexpr int kBins = 2048;
  static constexpr double kPercentile = 99.99;  // per side, for CalibrationMethod::percentile

  void observe_min_max(std::span<const float> x);
  void start_histogram();  // after the min/max pass
  void observe_histogram(std::span<const float> x);
  Range range(CalibrationMethod method) const;
  Range min_max() const { return {min_, max_}; }

 private:
  Range percentile_range() const;
  Range entropy_range() const;
  Range mse_range() const;

  float min_ = 0.0f, max_ = 0.0f;
  std::vector<double> hist_;      // kBins over [min_, max_]
  std::vector<double> abs_hist_;  // kBins over [0, max(|min_|, max_)]
};

// uint8 (or int8) affine parameters covering `r`: scale = (max - min) / 255, zero point so that
// 0.0 is exact.
struct AffineParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};
AffineParams affine_params(Range r, bool int8);

}  // namespace pitlane::quant
