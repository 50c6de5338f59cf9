#include "pitlane/core/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pitlane/core/error.h"

namespace pitlane {

TEST(Stats, PercentileInterpolatesLikeNumpy) {
  const std::vector<double> v = {4.0, 1.0, 3.0, 2.0};  // sorted: 1 2 3 4
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 4.0);
  EXPECT_DOUBLE_EQ(percentile(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile(v, 25), 1.75);  // rank 0.75 between 1 and 2
  EXPECT_DOUBLE_EQ(mean(v), 2.5);
  EXPECT_DOUBLE_EQ(max_value(v), 4.0);
}

TEST(Stats, EmptyInputIsZero) {
  const std::vector<double> none;
  EXPECT_EQ(percentile(none, 50), 0.0);
  EXPECT_EQ(mean(none), 0.0);
}

}  // namespace pitlane

namespace pitlane {

// Student t quantiles against printed tables (two-sided 95%: p = 0.975; one-sided 95%: 0.95).
TEST(Stats, StudentTQuantilesMatchTheTables) {
  const double t975[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};
  const double t95[] = {6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812};
  for (int df = 1; df <= 10; ++df) {
    EXPECT_NEAR(student_t_quantile(0.975, df), t975[df - 1], 6e-4) << df;
    EXPECT_NEAR(student_t_quantile(0.95, df), t95[df - 1], 6e-4) << df;
  }
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042, 6e-4);
  EXPECT_NEAR(student_t_quantile(0.975, 1e9), 1.959964, 1e-5);  // the normal limit
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.776, 6e-4);
  EXPECT_NEAR(student_t_cdf(0.0, 3), 0.5, 1e-15);
  EXPECT_NEAR(student_t_cdf(1.0, 1), 0.75, 1e-12);  // Cauchy: 1/2 + atan(1)/pi
}

// A 95% interval by hand: values 2, 4, 4, 4, 5, 5, 7, 9 have mean 5 and sample standard
// deviation sqrt(32/7) = 2.13809; t(0.975, 7) = 2.36462, so the half width is
// 2.36462 * 2.13809 / sqrt(8) = 1.78750.
TEST(Stats, MeanIntervalByHand) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  const Interval ci = mean_interval(v, 0.95);
  EXPECT_EQ(ci.n, 8);
  EXPECT_DOUBLE_EQ(ci.estimate, 5.0);
  EXPECT_NEAR(sample_stddev(v), std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_NEAR(ci.high - ci.estimate, 1.78750, 1e-4);
  EXPECT_NEAR(ci.estimate - ci.low, 1.78750, 1e-4);
  const std::vector<double> one = {3.5};
  EXPECT_EQ(mean_interval(one, 0.95).low, 3.5);
  EXPECT_EQ(mean_interval(one, 0.95).high, 3.5);
}

// Wilson by hand for 4 of 5 at 95% (z = 1.959964): centre (0.8 + z^2/10) / (1 + z^2/5) and half
// width z * sqrt(0.16/5 + z^2/100) / (1 + z^2/5): [0.37553, 0.96378]. 0/5 and 5/5 stay in [0, 1].
TEST(Stats, WilsonIntervalByHand) {
  const Interval w = wilson_interval(4, 5, 0.95);
  EXPECT_DOUBLE_EQ(w.estimate, 0.8);
  EXPECT_NEAR(w.low, 0.37553, 1e-4);
  EXPECT_NEAR(w.high, 0.96378, 1e-4);
  EXPECT_EQ(wilson_interval(0, 5, 0.95).low, 0.0);
  EXPECT_GT(wilson_interval(0, 5, 0.95).high, 0.4);
  EXPECT_EQ(wilson_interval(5, 5, 0.95).high, 1.0);
  EXPECT_LT(wilson_interval(5, 5, 0.95).low, 0.6);
}

TEST(Stats, PairedComparisonVerdicts) {
  const std::vector<double> base = {80, 90, 70, 85, 75};
  // Consistently 10 lower: worse, with a point interval at -10.
  const std::vector<double> lower = {70, 80, 60, 75, 65};
  const PairedComparison w = compare_paired(lower, base, 0.95);
  EXPECT_EQ(w.verdict, Verdict::worse);
  EXPECT_DOUBLE_EQ(w.difference.estimate, -10.0);
  EXPECT_TRUE(worse_one_sided(lower, base, 0.95));
  // Differences -3, +4, -2, +3, -1: mean 0.2, the interval spans zero.
  const std::vector<double> noisy = {77, 94, 68, 88, 74};
  EXPECT_EQ(compare_paired(noisy, base, 0.95).verdict, Verdict::equal);
  EXPECT_FALSE(worse_one_sided(noisy, base, 0.95));
  // Higher deviation is worse: orientation flips.
  EXPECT_EQ(compare_paired(lower, base, 0.95, /*higher_is_better=*/false).verdict, Verdict::better);
  // One pair proves nothing.
  const std::vector<double> a = {50}, b = {90};
  EXPECT_EQ(compare_paired(a, b, 0.95).verdict, Verdict::equal);
  EXPECT_FALSE(worse_one_sided(a, b, 0.95));
  EXPECT_THROW(compare_paired(a, base, 0.95), RunError);
  EXPECT_STREQ(verdict_name(Verdict::better), "better");
}

}  // namespace pitlane
