#include "pitlane/sim/ground_map.h"

#include <gtest/gtest.h>

#include "pitlane/core/rng.h"

namespace pitlane::sim {

// Oracle: the circuit's exact nearest-segment query.
TEST(GroundMap, MatchesExactOffsetsOnEveryCircuit) {
  Rng rng(3);
  for (const auto& name : track::builtin_circuit_names()) {
    const track::Circuit c = track::load_circuit(name);
    const GroundMap map(c, 2.4);
    for (int i = 0; i < 4000; ++i) {
      const Vec2 p = c.pose_at(rng.uniform(0, c.length()), rng.uniform(-2.2, 2.2)).position;
      const track::TrackPoint exact = c.project(p);
      const float got = map.lateral(static_cast<float>(p.x), static_cast<float>(p.y));
      // Bilinear over 0.1 m cells of a field that is linear across a straight road: sub-mm
      // there, a few mm where the road bends hardest.
      ASSERT_NEAR(got, exact.lateral, 4e-3) << name << " at " << p.x << "," << p.y;
    }
  }
}

// The batched lookup (eight points at a time with AVX2) returns lateral()'s values exactly,
// on the road, beyond the band and outside the grid.
TEST(GroundMap, BatchedLookupsEqualSingleOnes) {
  const track::Circuit c = track::load_circuit("montmelo");
  const GroundMap map(c, 2.4);
  Rng rng(5);
  std::vector<float> x, y;
  for (int i = 0; i < 5001; ++i) {
    const Vec2 p = i % 7 == 0 ? Vec2{rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)}
                              : c.pose_at(rng.uniform(0, c.length()), rng.uniform(-4, 4)).position;
    x.push_back(static_cast<float>(p.x));
    y.push_back(static_cast<float>(p.y));
  }
  for (const bool avx2 : {false, true}) {
    if (avx2 && !GroundMap::avx2_available()) continue;
    std::vector<float> out(x.size());
    map.lateral_points(x.data(), y.data(), x.size(), out.data(), avx2);
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(out[i], map.lateral(x[i], y[i])) << "point " << i << (avx2 ? " (avx2)" : "");
    }
  }
}

TEST(GroundMap, FarBeyondTheBand) {
  const track::Circuit c = track::load_circuit("simple_circuit");
  const GroundMap map(c, 2.4);
  const Vec2 p = c.pose_at(50.0, 3.0).position;
  // 3 m out is beyond the band, unless another part of the road is near.
  if (c.project(p).distance > 2.6) {
    EXPECT_EQ(map.lateral(static_cast<float>(p.x), static_cast<float>(p.y)), GroundMap::kFar);
  }
  EXPECT_EQ(map.lateral(1e4f, 1e4f), GroundMap::kFar);
  EXPECT_GT(map.tile_count(), 0u);
}

}  // namespace pitlane::sim
