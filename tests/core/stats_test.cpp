#include "pitlane/core/stats.h"

#include <gtest/gtest.h>

#include <vector>

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
