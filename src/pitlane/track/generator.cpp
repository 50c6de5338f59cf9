#include "pitlane/track/generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <string>

#include "pitlane/core/error.h"
#include "pitlane/core/rng.h"

namespace pitlane::track {
namespace {

struct Harmonic {
  int k;
  double amplitude;
  double phase;
};

std::vector<Vec2> sample(double mean_radius, const std::vector<Harmonic>& harmonics, int n) {
  std::vector<Vec2> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    // Decreasing angle: the points run clockwise, as "cw" promises.
    const double t = -2.0 * std::numbers::pi * i / n;
    double r = 1.0;
    for (const auto& h : harmonics) r += h.amplitude * std::cos(h.k * t + h.phase);
    out[i] = {mean_radius * r * std::cos(t), mean_radius * r * std::sin(t)};
  }
  return out;
}

}  // namespace

double min_bend_radius(const std::vector<Vec2>& line) {
  const size_t n = line.size();
  double min_r = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const Vec2 a = line[(i + n - 1) % n], b = line[i], c = line[(i + 1) % n];
    const double twice_area = std::abs((b - a).cross(c - a));
    if (twice_area < 1e-12) continue;  // collinear: no bend here
    min_r = std::min(min_r, (b - a).norm() * (c - b).norm() * (c - a).norm() / (2 * twice_area));
  }
  return min_r;
}

std::vector<Vec2> generate_centre_line(uint64_t seed, const GeneratorOptions& options) {
  if (options.points < 100 || !(options.min_mean_radius_m > 0) ||
      options.max_mean_radius_m < options.min_mean_radius_m ||
      options.min_bend_radius_m >= options.min_mean_radius_m) {
    throw InputError("generator: need points >= 100 and 0 < min bend < min mean <= max mean");
  }
  Rng rng(seed);
  const double mean_radius = rng.uniform(options.min_mean_radius_m, options.max_mean_radius_m);
  std::vector<Harmonic> harmonics;
  double total = 0.0;
  for (int k = 2; k <= 5; ++k) {
    harmonics.push_back(
        {k, rng.uniform(0.0, 0.3 / k * 2.0), rng.uniform(0.0, 2 * std::numbers::pi)});
    total += harmonics.back().amplitude;
  }
  // sum |a_k| < 1 keeps r > 0 (a simple curve); 0.6 keeps the road well away from the centre.
  if (total > 0.6) {
    for (auto& h : harmonics) h.amplitude *= 0.6 / total;
  }
  // Soften until the tightest bend is drivable; a circle (all a_k = 0) always is.
  for (;;) {
    std::vector<Vec2> line = sample(mean_radius, harmonics, options.points);
    if (min_bend_radius(line) >= options.min_bend_radius_m) return line;
    for (auto& h : harmonics) h.amplitude *= 0.85;
  }
}

std::optional<uint64_t> parse_generated_name(std::string_view name) {
  constexpr std::string_view kPrefix = "generated:";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view digits = name.substr(kPrefix.size());
  uint64_t seed = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seed);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    throw InputError("circuit '" + std::string(name) +
                     "': write generated:SEED with a whole number, e.g. generated:11");
  }
  return seed;
}

}  // namespace pitlane::track
