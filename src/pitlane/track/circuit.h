// Circuit: a closed road around a centre line, with the queries every other module asks of it.
//
// A circuit is built once (parsed, validated, resampled to uniform spacing, smoothed) and then only
// read. Arc length s runs along the driving direction from the centre line's first point; lateral
// offsets are signed, positive to the left of the driving direction.
//
//   Circuit c = load_circuit("simple_circuit", Direction::kClockwise);
//   TrackPoint tp = c.project(car.position);   // tp.s, tp.lateral, tp.distance
//   Pose2 start = c.start_pose();
//
// Exact nearest-point queries go through a grid of segments (SegmentIndex); project_near() walks
// only the segments within a window of a known arc length, for progress tracking along the road.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pitlane/core/geometry.h"
#include "pitlane/core/rng.h"
#include "pitlane/track/segment_index.h"

namespace pitlane::track {

// The road's cross-section (REFERENCE section 2: road 3.2-3.6 m, walls 1.6-1.8 m from centre).
struct CrossSection {
  double road_half_width_m = 1.7;    // asphalt either side of the centre line
  double line_half_width_m = 0.045;  // painted centre line (0.09 m wide)
  double border_width_m = 0.06;      // white edge line, inside the asphalt edge
  double wall_offset_m = 1.8;        // wall face, from the centre line
  double wall_height_m = 0.76;
};

// Clockwise is the order of the CSV's points (the original worlds' spawn direction).
enum class Direction { kClockwise, kCounterClockwise };
std::string_view to_string(Direction d);
Direction parse_direction(std::string_view text);  // "cw" | "ccw"; InputError otherwise

struct TrackPoint {
  double s = 0.0;         // arc length of the nearest centre-line point, m, in [0, length)
  double lateral = 0.0;   // signed offset from the centre line, m, left positive
  double distance = 0.0;  // |lateral| up to the ends of segments: exact distance to the line, m
  double heading = 0.0;   // driving direction of the centre line there, rad
  Vec2 point;             // the nearest centre-line point
};

// The largest circuit accepted: the Nordschleife is 20.8 km long and about 5 km across.
inline constexpr double kMaxCircuitLengthM = 50'000.0;
inline constexpr double kMaxCircuitExtentM = 20'000.0;

struct CircuitOptions {
  double spacing_m = 0.1;          // resampled point spacing
  double smoothing_sigma_m = 1.0;  // Gaussian smoothing of the centre line along its length
  double max_closing_gap_m = 3.0;  // last-to-first distance allowed for a closed curve
};

class Circuit {
 public:
  // Builds a circuit from raw centre-line points in driving order (not repeating the first).
  // `source` names the data for error messages (a file path or a built-in name).
  // Throws InputError for too few points, non-finite values, an open or self-intersecting curve,
  // one longer than kMaxCircuitLengthM or wider than kMaxCircuitExtentM.
  static Circuit from_points(std::string name, std::string_view source, std::span<const Vec2> raw,
                             const CircuitOptions& options = {});

  const std::string& name() const { return name_; }
  Direction direction() const { return direction_; }
  double length() const { return length_; }
  std::span<const Vec2> points() const { return points_; }  // uniform spacing, driving order
  double spacing() const { return spacing_; }
  const CrossSection& cross_section() const { return section_; }
  CrossSection& cross_section() { return section_; }

  // The expert's reference lap time (REFERENCE section 2) or, for other circuits, one estimated
  // from the length at the expert's typical pace. Timeouts are 1.1x this per lap.
  double reference_lap_s() const { return reference_lap_s_; }

  TrackPoint project(Vec2 p) const;
  // Nearest point among the centre-line segments within +-window_m of arc length s_hint.
  TrackPoint project_near(Vec2 p, double s_hint, double window_m) const;

  Vec2 point_at(double s) const;
  double heading_at(double s) const;
  // Signed curvature at s, 1/m, positive turning left.
  double curvature_at(double s) const;
  Pose2 pose_at(double s, double lateral = 0.0, double yaw_offset = 0.0) const;

  // Where a run starts: the original world's spawn point (built-in circuits) or the first point.
  double start_s() const { return start_s_; }
  Pose2 start_pose() const { return pose_at(start_s_); }

  // The same road driven the other way (arc length measured in the new direction).
  Circuit reversed() const;
  // Shortest signed arc-length step from s0 to s1 on this closed curve.
  double arc_delta(double s0, double s1) const;

  void set_reference(double start_s, double reference_lap_s) {
    start_s_ = start_s;
    reference_lap_s_ = reference_lap_s;
  }

 private:
  Circuit() = default;
  void build_index();
  TrackPoint make_track_point(Vec2 p, const SegmentHit& hit) const;

  std::string name_;
  Direction direction_ = Direction::kClockwise;
  std::vector<Vec2> points_;
  double spacing_ = 0.1;  // exact spacing after resampling (length / point count)
  double length_ = 0.0;
  CrossSection section_;
  SegmentIndex index_;
  double start_s_ = 0.0;
  double reference_lap_s_ = 0.0;
};

// A seeded start: uniform arc length, Gaussian lateral and heading offsets (clipped to keep the
// car on the road).
struct StartPerturbation {
  double lateral_sigma_m = 0.4;
  double yaw_sigma_rad = 0.15;
  double max_lateral_m = 1.0;
};
Pose2 random_start(const Circuit& circuit, Rng& rng, const StartPerturbation& p);

// Loads a built-in circuit by name, or a CSV file (header x_m,y_m; one x,y pair per line, metres).
Circuit load_circuit(std::string_view name_or_path, Direction direction = Direction::kClockwise,
                     const CircuitOptions& options = {});
// Parses centre-line CSV text; `source` names it in errors.
std::vector<Vec2> parse_centre_line_csv(std::string_view text, std::string_view source);
std::vector<std::string> builtin_circuit_names();

}  // namespace pitlane::track
