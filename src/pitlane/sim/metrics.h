// Metrics of a closed-loop run (DESIGN.md "Simulation", REFERENCE section 6), in physical units.
//
// RunMetrics holds the deterministic results: with a deterministic timing model the same
// circuit, brain and seed give the same bytes of JSON. Wall-clock measurements (how long the
// brain's code really took, frames per second) live apart in RunTiming, never in RunMetrics.
//
// MetricsAccumulator is fed by the episode as it steps and turns its samples into RunMetrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pitlane/core/geometry.h"
#include "pitlane/sim/vehicle.h"
#include "pitlane/track/circuit.h"

namespace pitlane::sim {

struct RunMetrics {
  std::string circuit;
  std::string direction;  // "cw" | "ccw"
  std::string brain;
  uint64_t seed = 0;
  std::string timing;  // the timing model, e.g. "fixed:5"
  int laps_requested = 1;
  int completed_laps = 0;
  double completed_fraction = 0.0;    // centre-line progress / (laps_requested * length), 0..1
  double completed_distance_m = 0.0;  // odometry: sum of 20 Hz position steps
  std::vector<double> lap_times_s;    // time of each lap's completion, from the start
  double sim_time_s = 0.0;
  double average_speed_mps = 0.0;  // completed_distance_m / sim_time_s
  double deviation_mean_m = 0.0;   // distance of the car's origin to the centre line, 100 Hz
  double deviation_p95_m = 0.0;
  double deviation_max_m = 0.0;
  double bm_deviation_score = 0.0;  // BehaviorMetrics' mean of 1000^d over passed ideal points
  int wall_contacts = 0;            // times the car ran into a wall
  double off_road_s = 0.0;          // time with the car's origin off the asphalt
  bool trapped = false;             // moved < 0.5 m within a 10 s check
  bool timed_out = false;           // ran past laps x reference lap time x 1.1
  std::string termination;          // "completed" | "trapped" | "timeout"
  int brain_iterations = 0;
  double brain_hz = 0.0;          // iterations per simulated second
  double inference_ms_p50 = 0.0;  // latency the timing model applied (first/last 10 dropped)
  double inference_ms_p99 = 0.0;
  double suddenness = 0.0;  // mean |change| of normalized (v, w) between iterations
  // pitlane-ds/1 (driving_score() below), filled once the termination is known.
  int off_road_entries = 0;         // times the car's origin left the asphalt
  double infractions_per_km = 0.0;  // (wall contacts + off-road entries) per driven km
  double driving_score = 0.0;       // 0..100
};

// The driving score, version pitlane-ds/1 (docs/simulator.md), in the spirit of the CARLA
// leaderboard's: how much of the route was driven on the road, discounted by a factor per
// infraction.
//   score = 100 x route_completion x on_road_share x penalty
//   route_completion = completed_fraction (centre-line progress over the requested laps)
//   on_road_share    = 1 - off_road_s / sim_time_s (CARLA drops off-road distance from the
//                      route completion; pitlane has the time, not the distance)
//   penalty          = 0.65 per wall contact (CARLA's collision with static objects)
//                    x 0.7 if the run timed out, x 0.7 if the car was trapped (the route was
//                      abandoned: CARLA's route and scenario timeouts)
// Every results file names the version (kDrivingScoreVersion); a change of formula is a new
// version, never a silent change.
inline constexpr const char* kDrivingScoreVersion = "pitlane-ds/1";
inline constexpr double kWallContactPenalty = 0.65;
inline constexpr double kTimeoutPenalty = 0.7;
inline constexpr double kTrappedPenalty = 0.7;

struct DrivingScore {
  double route_completion = 0.0;  // 0..1
  double on_road_share = 1.0;     // 0..1
  double penalty = 1.0;           // product of the infraction factors, 0..1
  double score = 0.0;             // 0..100
};
DrivingScore driving_score(const RunMetrics& m);
// Fills m.driving_score and m.infractions_per_km from the rest of m (the episode calls it once
// the termination is known).
void score_run(RunMetrics& m);

// Wall-clock figures of the same run: not reproducible, kept out of RunMetrics.
struct RunTiming {
  double wall_time_s = 0.0;
  double real_time_factor = 0.0;  // simulated seconds per wall second
  int64_t frames_rendered = 0;
  double render_ms_mean = 0.0;
  double brain_ms_p50 = 0.0;  // the brain's own measured inference time
  double brain_ms_p99 = 0.0;
};

nlohmann::ordered_json to_json(const RunMetrics& m);
nlohmann::ordered_json to_json(const RunTiming& t);
// The metrics as a two-column terminal table.
std::string format_table(const RunMetrics& m);

// Normalized labels of REFERENCE section 4, also used for suddenness.
double normalize_v(double v);
double normalize_w(double w);

class MetricsAccumulator {
 public:
  MetricsAccumulator(const track::Circuit& circuit, int laps, Vec2 start);

  // Every physics step: the car's pose after the step, the step's length and time after it.
  // Returns the number of laps completed so far.
  int on_step(const Pose2& pose, int64_t t_us, int64_t dt_us);
  void on_wall_contact() { ++wall_contacts_; }
  // Every brain iteration: the command and the latency the timing model applied.
  void on_brain(const Command& command, double latency_ms);

  double progress_fraction() const;         // of the requested laps, 0..1
  double arc_length() const { return s_; }  // of the car's nearest centre-line point, m

  RunMetrics finish(int64_t t_us) const;

 private:
  const track::Circuit& circuit_;
  int laps_ = 1;
  double s_ = 0.0;           // arc length of the car's nearest centre-line point
  double progress_m_ = 0.0;  // signed progress along the centre line since the start
  std::vector<double> lap_times_s_;
  Vec2 last_odometry_;
  double distance_m_ = 0.0;
  std::vector<double> deviations_;
  std::vector<Vec2> path_;  // 100 Hz positions, for the BehaviorMetrics score
  double max_progress_m_ = 0.0;
  double off_road_s_ = 0.0;
  bool off_road_ = false;  // the car's origin is off the asphalt now
  int off_road_entries_ = 0;
  int wall_contacts_ = 0;
  std::vector<double> latencies_ms_;
  std::vector<Command> commands_;
};

}  // namespace pitlane::sim
