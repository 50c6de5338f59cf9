#include "pitlane/sim/vehicle.h"

#include <cmath>

namespace pitlane::sim {

Pose2 integrate_pose(const Pose2& pose, double v, double w, double dt) {
  const double dyaw = w * dt;
  Pose2 next = pose;
  if (std::abs(dyaw) < 1e-9) {
    next.position = pose.position + pose.forward() * (v * dt);
  } else {
    // Exact arc of radius v / w.
    const double r = v / w;
    next.position.x += r * (std::sin(pose.yaw + dyaw) - std::sin(pose.yaw));
    next.position.y += -r * (std::cos(pose.yaw + dyaw) - std::cos(pose.yaw));
  }
  next.yaw = wrap_angle(pose.yaw + dyaw);
  return next;
}

std::array<Vec2, 6> footprint_points(const Pose2& pose, const VehicleModel& m) {
  return {pose.to_world(m.front_m, m.half_width_m), pose.to_world(m.front_m, -m.half_width_m),
          pose.to_world(-m.rear_m, m.half_width_m), pose.to_world(-m.rear_m, -m.half_width_m),
          pose.to_world(0.5 * (m.front_m - m.rear_m), m.half_width_m),
          pose.to_world(0.5 * (m.front_m - m.rear_m), -m.half_width_m)};
}

}  // namespace pitlane::sim
