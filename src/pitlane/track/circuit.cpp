#include "pitlane/track/circuit.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "pitlane/core/error.h"

namespace pitlane::track {
namespace {

// Uniform resampling of a closed polyline to about `spacing` (adjusted to divide the length).
std::vector<Vec2> resample_closed(std::span<const Vec2> pts, double spacing) {
  const size_t n = pts.size();
  std::vector<double> cum(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) cum[i + 1] = cum[i] + distance(pts[i], pts[(i + 1) % n]);
  const double total = cum[n];
  const auto count = std::max<size_t>(8, static_cast<size_t>(std::llround(total / spacing)));
  const double step = total / static_cast<double>(count);
  std::vector<Vec2> out;
  out.reserve(count);
  size_t seg = 0;
  for (size_t k = 0; k < count; ++k) {
    const double s = step * static_cast<double>(k);
    while (seg + 1 < n && cum[seg + 1] <= s) ++seg;
    const double len = cum[seg + 1] - cum[seg];
    const double t = len > 0 ? (s - cum[seg]) / len : 0.0;
    out.push_back(pts[seg] + (pts[(seg + 1) % n] - pts[seg]) * t);
  }
  return out;
}

// Circular Gaussian smoothing of uniformly spaced points.
std::vector<Vec2> smooth_closed(std::span<const Vec2> pts, double sigma_samples) {
  if (sigma_samples <= 0.0) return {pts.begin(), pts.end()};
  const auto n = static_cast<int64_t>(pts.size());
  const auto half = static_cast<int64_t>(std::ceil(3.0 * sigma_samples));
  std::vector<double> w(static_cast<size_t>(2 * half + 1));
  double wsum = 0.0;
  for (int64_t k = -half; k <= half; ++k) {
    const double x = static_cast<double>(k) / sigma_samples;
    wsum += w[static_cast<size_t>(k + half)] = std::exp(-0.5 * x * x);
  }
  std::vector<Vec2> out(pts.size());
  for (int64_t i = 0; i < n; ++i) {
    Vec2 acc;
    for (int64_t k = -half; k <= half; ++k) {
      const Vec2 p = pts[static_cast<size_t>(((i + k) % n + n) % n)];
      acc = acc + p * w[static_cast<size_t>(k + half)];
    }
    out[static_cast<size_t>(i)] = acc * (1.0 / wsum);
  }
  return out;
}

bool segments_cross(Vec2 a, Vec2 b, Vec2 c, Vec2 d) {
  const double d1 = (b - a).cross(c - a), d2 = (b - a).cross(d - a);
  const double d3 = (d - c).cross(a - c), d4 = (d - c).cross(b - c);
  return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)) && d1 != 0 && d2 != 0 && d3 != 0 &&
         d4 != 0;
}

}  // namespace

std::string_view to_string(Direction d) {
  return d == Direction::kClockwise ? "cw" : "ccw";
}

Direction parse_direction(std::string_view text) {
  if (text == "cw") return Direction::kClockwise;
  if (text == "ccw") return Direction::kCounterClockwise;
  throw InputError("direction '" + std::string(text) + "' is not known; use cw or ccw");
}

Circuit Circuit::from_points(std::string name, std::string_view source, std::span<const Vec2> raw,
                             const CircuitOptions& options) {
  const std::string where(source);
  // Drop repeated points so that zero-length segments cannot upset headings.
  std::vector<Vec2> pts;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!std::isfinite(raw[i].x) || !std::isfinite(raw[i].y)) {
      throw InputError(where + ": point " + std::to_string(i + 1) +
                       " is not a finite number; every row needs numeric x_m,y_m");
    }
    if (pts.empty() || distance(pts.back(), raw[i]) > 1e-6) pts.push_back(raw[i]);
  }
  if (pts.size() > 1 && distance(pts.front(), pts.back()) <= 1e-6) pts.pop_back();
  if (pts.size() < 10) {
    throw InputError(where + ": " + std::to_string(pts.size()) +
                     " distinct points; a circuit needs at least 10 centre-line points");
  }
  double perimeter = 0.0;
  for (size_t i = 0; i + 1 < pts.size(); ++i) perimeter += distance(pts[i], pts[i + 1]);
  const double gap = distance(pts.back(), pts.front());
  if (gap > options.max_closing_gap_m && gap > 0.05 * perimeter) {
    throw InputError(where + ": the curve is open (last point is " + std::to_string(gap) +
                     " m from the first); give a closed centre line whose end meets its start");
  }
  if (perimeter + gap < 20.0) {
    throw InputError(where + ": the centre line is only " + std::to_string(perimeter + gap) +
                     " m long; coordinates must be metres");
  }
  // Bounded before anything is sized from it: the resampled line, the spatial index and the
  // renderer's ground map all grow with the length and the extent.
  Vec2 lo = pts.front(), hi = pts.front();
  for (Vec2 p : pts) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  const double extent = std::max(hi.x - lo.x, hi.y - lo.y);
  if (perimeter + gap > kMaxCircuitLengthM || extent > kMaxCircuitExtentM) {
    throw InputError(where + ": the centre line is " +
                     std::to_string(std::lround(perimeter + gap)) + " m long and spans " +
                     std::to_string(std::lround(extent)) + " m; pitlane takes circuits up to " +
                     std::to_string(std::lround(kMaxCircuitLengthM / 1000)) + " km long within " +
                     std::to_string(std::lround(kMaxCircuitExtentM / 1000)) +
                     " km (coordinates must be metres)");
  }

  Circuit c;
  c.name_ = std::move(name);
  std::vector<Vec2> uniform = resample_closed(pts, options.spacing_m);
  const double step0 = (perimeter + gap) / static_cast<double>(uniform.size());
  uniform = smooth_closed(uniform, options.smoothing_sigma_m / step0);
  c.points_ = resample_closed(uniform, options.spacing_m);
  c.build_index();

  // Self-intersection: only segments sharing a grid cell can cross.
  const auto n = static_cast<int64_t>(c.points_.size());
  for (int64_t i = 0; i < n; ++i) {
    const Vec2 a = c.points_[static_cast<size_t>(i)];
    const Vec2 b = c.points_[static_cast<size_t>((i + 1) % n)];
    const Vec2 mid = (a + b) * 0.5;
    // Any segment crossing [a, b] passes within spacing of its midpoint; walk those near it.
    for (int64_t j = i + 2; j < n; ++j) {
      if ((j + 1) % n == i) continue;
      const Vec2 c0 = c.points_[static_cast<size_t>(j)];
      if (distance(c0, mid) > 2.0 * c.spacing_ + 1e-9) {
        // Skip ahead: points are spacing apart, so j can jump by the distance in samples.
        const auto jump = static_cast<int64_t>((distance(c0, mid) - 2.0 * c.spacing_) / c.spacing_);
        j += std::max<int64_t>(0, jump - 1);
        continue;
      }
      const Vec2 d0 = c.points_[static_cast<size_t>((j + 1) % n)];
      if (segments_cross(a, b, c0, d0)) {
        throw InputError(where + ": the centre line crosses itself near (" + std::to_string(mid.x) +
                         ", " + std::to_string(mid.y) +
                         "); a circuit must be a simple closed curve");
      }
    }
  }
  const double expert_pace_mps = 6.0;  // the original expert's typical average speed
  c.reference_lap_s_ = c.length_ / expert_pace_mps;
  return c;
}

void Circuit::build_index() {
  const size_t n = points_.size();
  length_ = 0.0;
  for (size_t i = 0; i < n; ++i) length_ += distance(points_[i], points_[(i + 1) % n]);
  spacing_ = length_ / static_cast<double>(n);
  index_ = SegmentIndex(points_, /*closed=*/true, /*cell_m=*/2.0);
}

TrackPoint Circuit::make_track_point(Vec2 p, const SegmentHit& hit) const {
  const size_t n = points_.size();
  const Vec2 a = points_[static_cast<size_t>(hit.segment)];
  const Vec2 b = points_[(static_cast<size_t>(hit.segment) + 1) % n];
  const Vec2 dir = b - a;
  TrackPoint tp;
  tp.point = hit.point;
  tp.distance = hit.distance;
  tp.s = std::fmod((static_cast<double>(hit.segment) + hit.t) * spacing_, length_);
  tp.heading = std::atan2(dir.y, dir.x);
  const double side = dir.cross(p - hit.point);
  tp.lateral = side >= 0 ? hit.distance : -hit.distance;
  return tp;
}

TrackPoint Circuit::project(Vec2 p) const {
  return make_track_point(p, index_.nearest(p));
}

TrackPoint Circuit::project_near(Vec2 p, double s_hint, double window_m) const {
  const auto n = static_cast<int64_t>(points_.size());
  const auto center = static_cast<int64_t>(std::floor(s_hint / spacing_));
  const auto half = std::min<int64_t>(n / 2, static_cast<int64_t>(std::ceil(window_m / spacing_)));
  SegmentHit best;
  best.distance = std::numeric_limits<double>::infinity();
  for (int64_t k = -half; k <= half; ++k) {
    const auto seg = static_cast<int32_t>(((center + k) % n + n) % n);
    const SegmentHit hit = index_.distance_to_segment(p, seg);
    if (hit.distance < best.distance) best = hit;
  }
  return make_track_point(p, best);
}

Vec2 Circuit::point_at(double s) const {
  const auto n = static_cast<int64_t>(points_.size());
  s = std::fmod(std::fmod(s, length_) + length_, length_);
  const double f = s / spacing_;
  const auto i = static_cast<int64_t>(std::floor(f)) % n;
  const Vec2 a = points_[static_cast<size_t>(i)];
  const Vec2 b = points_[static_cast<size_t>((i + 1) % n)];
  return a + (b - a) * (f - std::floor(f));
}

double Circuit::heading_at(double s) const {
  const Vec2 d = point_at(s + 0.5 * spacing_) - point_at(s - 0.5 * spacing_);
  return std::atan2(d.y, d.x);
}

double Circuit::curvature_at(double s) const {
  const double h = 1.0;  // m: curvature over a 2 m chord, robust to the resampling
  return wrap_angle(heading_at(s + h) - heading_at(s - h)) / (2.0 * h);
}

Pose2 Circuit::pose_at(double s, double lateral, double yaw_offset) const {
  const double yaw = heading_at(s);
  const Vec2 left{-std::sin(yaw), std::cos(yaw)};
  return {point_at(s) + left * lateral, wrap_angle(yaw + yaw_offset)};
}

double Circuit::arc_delta(double s0, double s1) const {
  double d = std::fmod(s1 - s0, length_);
  if (d > 0.5 * length_) d -= length_;
  if (d <= -0.5 * length_) d += length_;
  return d;
}

Circuit Circuit::reversed() const {
  Circuit r = *this;
  r.direction_ =
      direction_ == Direction::kClockwise ? Direction::kCounterClockwise : Direction::kClockwise;
  // Point i of the reversed line is point (n - i) mod n, so arc length s maps to length - s.
  std::reverse(r.points_.begin() + 1, r.points_.end());
  r.build_index();
  r.start_s_ = std::fmod(length_ - start_s_, length_);
  return r;
}

Pose2 random_start(const Circuit& circuit, Rng& rng, const StartPerturbation& p) {
  const double s = rng.uniform(0.0, circuit.length());
  const double lateral =
      std::clamp(rng.normal(0.0, p.lateral_sigma_m), -p.max_lateral_m, p.max_lateral_m);
  const double yaw =
      std::clamp(rng.normal(0.0, p.yaw_sigma_rad), -3.0 * p.yaw_sigma_rad, 3.0 * p.yaw_sigma_rad);
  return circuit.pose_at(s, lateral, yaw);
}

}  // namespace pitlane::track
