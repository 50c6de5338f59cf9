// The car: a kinematic planar model driven by (v, w), like the original's planar-move plugin.
//
// There are no tyres: the commanded linear velocity v (m/s, forward) and yaw rate w (rad/s) are
// the car's velocities. Integration is exact for a constant command (the car follows an arc).
//
//   Pose2 next = integrate_pose(pose, /*v=*/7.0, /*w=*/0.5, /*dt=*/0.001);
#pragma once

#include <array>

#include "pitlane/core/geometry.h"

namespace pitlane::sim {

// The car's footprint around its origin (the rear-axle-centred frame of the original model).
struct VehicleModel {
  double front_m = 0.55;      // origin to the nose
  double rear_m = 0.45;       // origin to the tail
  double half_width_m = 0.30;
};

// A command the brain sends.
struct Command {
  double v = 0.0;  // m/s, forward
  double w = 0.0;  // rad/s, counter-clockwise
  bool operator==(const Command&) const = default;
};

Pose2 integrate_pose(const Pose2& pose, double v, double w, double dt);

// Points on the footprint's outline that wall contact is checked at: corners and mid-sides.
std::array<Vec2, 6> footprint_points(const Pose2& pose, const VehicleModel& model);

}  // namespace pitlane::sim
