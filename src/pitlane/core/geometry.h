// Planar geometry: 2-D vectors and poses in metres and radians (world frame, x east, y north,
// yaw counter-clockwise from +x).
#pragma once

#include <cmath>
#include <numbers>

namespace pitlane {

struct Vec2 {
  double x = 0.0;
  double y = 0.0;

  Vec2 operator+(Vec2 o) const { return {x + o.x, y + o.y}; }
  Vec2 operator-(Vec2 o) const { return {x - o.x, y - o.y}; }
  Vec2 operator*(double k) const { return {x * k, y * k}; }
  bool operator==(const Vec2&) const = default;
  double dot(Vec2 o) const { return x * o.x + y * o.y; }
  // z of the 3-D cross product: positive when o lies to the left of this.
  double cross(Vec2 o) const { return x * o.y - y * o.x; }
  double norm() const { return std::hypot(x, y); }
  Vec2 perp() const { return {-y, x}; }  // rotated +90 degrees (to the left)
};

inline double distance(Vec2 a, Vec2 b) {
  return (a - b).norm();
}

struct Pose2 {
  Vec2 position;     // m
  double yaw = 0.0;  // rad

  Vec2 forward() const { return {std::cos(yaw), std::sin(yaw)}; }
  Vec2 left() const { return forward().perp(); }
  // A point given in the body frame (forward, left), in world coordinates.
  Vec2 to_world(double forward_m, double left_m) const {
    return position + forward() * forward_m + left() * left_m;
  }
  bool operator==(const Pose2&) const = default;
};

// Wraps an angle to (-pi, pi].
inline double wrap_angle(double a) {
  a = std::remainder(a, 2.0 * std::numbers::pi);
  return a <= -std::numbers::pi ? a + 2.0 * std::numbers::pi : a;
}

}  // namespace pitlane
