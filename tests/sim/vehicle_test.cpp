#include "pitlane/sim/vehicle.h"

#include <gtest/gtest.h>

#include <cmath>

namespace pitlane::sim {

TEST(Vehicle, StraightLine) {
  const Pose2 p = integrate_pose({{1, 2}, M_PI / 2}, 3.0, 0.0, 2.0);
  EXPECT_NEAR(p.position.x, 1.0, 1e-12);
  EXPECT_NEAR(p.position.y, 8.0, 1e-12);
}

TEST(Vehicle, ArcIsExactForAnyStep) {
  // v = 2 m/s, w = 0.5 rad/s: a circle of radius 4 m; a quarter turn ends 4 m ahead, 4 m left.
  const double quarter = (M_PI / 2) / 0.5;
  const Pose2 one = integrate_pose({{0, 0}, 0.0}, 2.0, 0.5, quarter);
  Pose2 many{{0, 0}, 0.0};
  for (int i = 0; i < 1000; ++i) many = integrate_pose(many, 2.0, 0.5, quarter / 1000);
  EXPECT_NEAR(one.position.x, 4.0, 1e-12);
  EXPECT_NEAR(one.position.y, 4.0, 1e-12);
  EXPECT_NEAR(one.yaw, M_PI / 2, 1e-12);
  EXPECT_NEAR(many.position.x, 4.0, 1e-9);
  EXPECT_NEAR(many.position.y, 4.0, 1e-9);
}

TEST(Vehicle, FootprintCorners) {
  const VehicleModel m;
  const auto pts = footprint_points({{0, 0}, 0.0}, m);
  EXPECT_NEAR(pts[0].x, m.front_m, 1e-12);
  EXPECT_NEAR(pts[0].y, m.half_width_m, 1e-12);
  EXPECT_NEAR(pts[3].x, -m.rear_m, 1e-12);
  EXPECT_NEAR(pts[3].y, -m.half_width_m, 1e-12);
}

}  // namespace pitlane::sim
