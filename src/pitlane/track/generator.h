// Seeded random circuits for testing that a model drives on roads it has never seen.
//
// A generated centre line is a star-shaped closed curve in polar form,
//   r(theta) = R (1 + sum_k a_k cos(k theta + phi_k)),  k = 2..5,
// with the mean radius R and the amplitudes and phases drawn from the seed. Since sum |a_k| < 1
// the radius never reaches zero, so the curve never crosses itself; amplitudes shrink until the
// tightest bend is no sharper than `min_bend_radius_m`, so every seed gives a drivable circuit.
// The name "generated:SEED" loads one anywhere a circuit name is accepted.
//
//   std::vector<Vec2> line = generate_centre_line(11);
//   Circuit c = load_circuit("generated:11");
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "pitlane/core/geometry.h"

namespace pitlane::track {

struct GeneratorOptions {
  double min_mean_radius_m = 40.0;  // the mean radius is drawn from [min, max]
  double max_mean_radius_m = 60.0;
  double min_bend_radius_m = 10.0;  // the tightest bend allowed
  int points = 4000;                // samples of the closed curve
};

std::vector<Vec2> generate_centre_line(uint64_t seed, const GeneratorOptions& options = {});

// The seed in "generated:SEED", or nullopt for any other name. InputError for
// "generated:" followed by something that is not a whole number.
std::optional<uint64_t> parse_generated_name(std::string_view name);

// Radius of the tightest bend of a closed polyline, m (by the circle through each vertex and
// its neighbours).
double min_bend_radius(const std::vector<Vec2>& closed_line);

}  // namespace pitlane::track
