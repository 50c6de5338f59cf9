// Shared fixtures for simulator tests: synthetic circuits with known geometry.
#pragma once

#include <cmath>
#include <vector>

#include "pitlane/track/circuit.h"

namespace pitlane::sim::testing {

// A stadium: two straights of `straight_m` joined by half circles of `radius_m`, clockwise,
// starting at the middle of the lower straight heading +x... then turning right (clockwise).
inline track::Circuit stadium(double straight_m = 100.0, double radius_m = 20.0) {
  std::vector<Vec2> pts;
  const double step = 0.05;
  // Lower straight at y = 0 going -x -> +x is counter-clockwise; go +x on the upper straight
  // (y = 2r) and -x on the lower one to drive clockwise.
  for (double x = -straight_m / 2; x < straight_m / 2; x += step) pts.push_back({x, 2 * radius_m});
  for (double a = 0; a < M_PI; a += step / radius_m) {
    pts.push_back({straight_m / 2 + radius_m * std::sin(a), radius_m + radius_m * std::cos(a)});
  }
  for (double x = straight_m / 2; x > -straight_m / 2; x -= step) pts.push_back({x, 0.0});
  for (double a = 0; a < M_PI; a += step / radius_m) {
    pts.push_back({-straight_m / 2 - radius_m * std::sin(a), radius_m - radius_m * std::cos(a)});
  }
  return track::Circuit::from_points("stadium", "test:stadium", pts);
}

}  // namespace pitlane::sim::testing
