#include "pitlane/track/generator.h"

#include <gtest/gtest.h>

#include "pitlane/core/error.h"
#include "pitlane/track/circuit.h"

namespace pitlane::track {
namespace {

// Segments i and j (not neighbours) of a closed polyline intersect.
bool segments_cross(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double d1 = (b - a).cross(c - a), d2 = (b - a).cross(d - a);
  const double d3 = (d - c).cross(a - c), d4 = (d - c).cross(b - c);
  return d1 * d2 < 0 && d3 * d4 < 0;
}

TEST(Generator, SameSeedSameCircuitOtherSeedOtherCircuit) {
  EXPECT_EQ(generate_centre_line(11), generate_centre_line(11));
  EXPECT_NE(generate_centre_line(11), generate_centre_line(12));
}

TEST(Generator, CircuitsAreSimpleClosedAndDrivable) {
  GeneratorOptions o;
  o.points = 400;  // coarse enough for the quadratic crossing check
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto line = generate_centre_line(seed, o);
    ASSERT_EQ(line.size(), 400u);
    EXPECT_GE(min_bend_radius(line), o.min_bend_radius_m) << seed;
    const size_t n = line.size();
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 2; j < n; ++j) {
        if (i == 0 && j == n - 1) continue;  // neighbours across the closing point
        ASSERT_FALSE(segments_cross(line[i], line[i + 1], line[j], line[(j + 1) % n]))
            << "seed " << seed << " segments " << i << " and " << j;
      }
    }
    // Clockwise: the shoelace area is negative.
    double area2 = 0;
    for (size_t i = 0; i < n; ++i) area2 += line[i].cross(line[(i + 1) % n]);
    EXPECT_LT(area2, 0) << seed;
  }
}

TEST(Generator, MinBendRadiusOfACircleIsItsRadius) {
  std::vector<Vec2> circle;
  for (int i = 0; i < 1000; ++i) {
    const double t = 2 * std::numbers::pi * i / 1000;
    circle.push_back({25 * std::cos(t), 25 * std::sin(t)});
  }
  EXPECT_NEAR(min_bend_radius(circle), 25.0, 1e-3);
}

TEST(Generator, LoadsByNameAnywhereACircuitIsAccepted) {
  const Circuit c = load_circuit("generated:7");
  EXPECT_EQ(c.name(), "generated-7");
  EXPECT_GT(c.length(), 2 * std::numbers::pi * 40 * 0.5);
  EXPECT_GT(c.reference_lap_s(), 0.0);
  const Circuit r = load_circuit("generated:7", Direction::kCounterClockwise);
  EXPECT_NEAR(r.length(), c.length(), 1e-6);
  EXPECT_FALSE(parse_generated_name("montreal").has_value());
  EXPECT_EQ(parse_generated_name("generated:42"), 42u);
  EXPECT_THROW((void)parse_generated_name("generated:x"), InputError);
  EXPECT_THROW((void)load_circuit("generated:"), InputError);
}

}  // namespace
}  // namespace pitlane::track
