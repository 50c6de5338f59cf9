#include "pitlane/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pitlane {

TEST(Rng, SameSeedSameStream) {
  Rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, NormalHasRequestedMoments) {
  Rng rng(1);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal(2.0, 0.5);
    sum += x;
    sum2 += x * x;
  }
  const double m = sum / n;
  EXPECT_NEAR(m, 2.0, 0.01);
  EXPECT_NEAR(std::sqrt(sum2 / n - m * m), 0.5, 0.01);
}

TEST(Rng, UniformStaysInRange) {
  Rng rng(3);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.uniform(-1.0, 2.0);
    ASSERT_GE(u, -1.0);
    ASSERT_LT(u, 2.0);
    ASSERT_LT(rng.below(5), 5u);
  }
}

}  // namespace pitlane
