// Calibration observers against hand computations.
#include "pitlane/quant/observer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "pitlane/core/error.h"

namespace pitlane::quant {
namespace {

RangeObserver observe(const std::vector<float>& x) {
  RangeObserver o;
  o.observe_min_max(x);
  o.start_histogram();
  o.observe_histogram(x);
  return o;
}

TEST(Observer, MinMaxAlwaysHoldsZero) {
  const auto o = observe({0.5f, 2.0f, 1.5f});
  EXPECT_EQ(o.range(CalibrationMethod::minmax).min, 0.0f);
  EXPECT_EQ(o.range(CalibrationMethod::minmax).max, 2.0f);
  const auto n = observe({-3.0f, -1.0f});
  EXPECT_EQ(n.range(CalibrationMethod::minmax).min, -3.0f);
  EXPECT_EQ(n.range(CalibrationMethod::minmax).max, 0.0f);
}

TEST(Observer, AffineParamsMakeZeroExact) {
  // [-1, 3]: scale 4/255, zero point round(1 / (4/255)) = round(63.75) = 64.
  const AffineParams a = affine_params({-1.0f, 3.0f}, false);
  EXPECT_FLOAT_EQ(a.scale, 4.0f / 255.0f);
  EXPECT_EQ(a.zero_point, 64);
  // int8: the same range shifted by -128.
  EXPECT_EQ(affine_params({-1.0f, 3.0f}, true).zero_point, -64);
  // Non-negative (a Relu output): zero point 0.
  EXPECT_EQ(affine_params({0.0f, 6.0f}, false).zero_point, 0);
}

// One far outlier among N(0,1) values: minmax keeps it, percentile and entropy clip it. MSE
// weighs the outlier's clipping error against everyone's rounding error (here, with 8 bits,
// keeping most of the range wins), so it only has to keep the bulk.
TEST(Observer, PercentileAndEntropyClipAnOutlier) {
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(200000);
  for (auto& v : x) v = n(rng);
  x.push_back(100.0f);
  const auto o = observe(x);
  EXPECT_EQ(o.range(CalibrationMethod::minmax).max, 100.0f);
  for (auto m : {CalibrationMethod::percentile, CalibrationMethod::entropy}) {
    const Range r = o.range(m);
    EXPECT_GT(r.max, 2.0f) << calibration_method_name(m);
    EXPECT_LT(r.max, 20.0f) << calibration_method_name(m);
    EXPECT_LT(r.min, -2.0f) << calibration_method_name(m);
  }
  const Range mse = o.range(CalibrationMethod::mse);
  EXPECT_GT(mse.max, 3.72f);
  EXPECT_LE(mse.max, 100.0f);
  // The 99.99th percentile of N(0,1) is 3.72; one histogram bin is ~0.05 wide here.
  EXPECT_NEAR(o.range(CalibrationMethod::percentile).max, 3.72f, 0.15f);
}

TEST(Observer, UnknownMethodIsAnInputError) {
  EXPECT_THROW(parse_calibration_method("kl"), InputError);
  EXPECT_EQ(parse_calibration_method("entropy"), CalibrationMethod::entropy);
}

}  // namespace
}  // namespace pitlane::quant
