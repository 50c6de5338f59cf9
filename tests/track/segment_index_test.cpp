#include "pitlane/track/segment_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pitlane/core/rng.h"

namespace pitlane::track {

// Oracle: the nearest distance by brute force over every segment.
double brute_force_distance(const std::vector<Vec2>& pts, bool closed, Vec2 p) {
  double best = std::numeric_limits<double>::infinity();
  const size_t n = pts.size(), segs = closed ? n : n - 1;
  for (size_t i = 0; i < segs; ++i) {
    const Vec2 a = pts[i], b = pts[(i + 1) % n], ab = b - a;
    const double t = std::clamp((p - a).dot(ab) / ab.dot(ab), 0.0, 1.0);
    best = std::min(best, distance(p, a + ab * t));
  }
  return best;
}

TEST(SegmentIndex, MatchesBruteForceEverywhere) {
  Rng rng(11);
  std::vector<Vec2> pts;
  for (int i = 0; i < 300; ++i) {  // a wobbly closed loop
    const double a = 2 * M_PI * i / 300;
    const double r = 40 + 8 * std::sin(5 * a);
    pts.push_back({r * std::cos(a), 0.6 * r * std::sin(a)});
  }
  for (bool closed : {true, false}) {
    const SegmentIndex index(pts, closed, 2.0);
    for (int q = 0; q < 3000; ++q) {
      // Queries on, near and far from the curve, including outside the grid.
      const Vec2 p{rng.uniform(-80, 80), rng.uniform(-60, 60)};
      const SegmentHit hit = index.nearest(p);
      ASSERT_NEAR(hit.distance, brute_force_distance(pts, closed, p), 1e-9) << p.x << "," << p.y;
      ASSERT_NEAR(distance(hit.point, p), hit.distance, 1e-9);
    }
  }
}

TEST(SegmentIndex, DegenerateInputs) {
  const std::vector<Vec2> one = {{1, 1}};
  EXPECT_NEAR(SegmentIndex(one, false, 1.0).nearest({4, 5}).distance, 5.0, 1e-12);
  const std::vector<Vec2> none;
  EXPECT_TRUE(SegmentIndex(none, false, 1.0).empty());
}

TEST(SegmentIndex, WideSparseLinesGetCoarserCellsNotMoreMemory) {
  // Two points 10,000 km apart: 1 m cells would need 10^14 of them.
  const std::vector<Vec2> line = {{0, 0}, {1e7, 1e7}, {2e7, 0}};
  const SegmentIndex index(line, /*closed=*/false, 1.0);
  EXPECT_EQ(index.segment_count(), 2);
  EXPECT_NEAR(index.nearest({1e7, 1e7 + 3}).distance, 3.0, 1e-6);
}

}  // namespace pitlane::track
