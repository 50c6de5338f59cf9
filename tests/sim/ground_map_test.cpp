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
