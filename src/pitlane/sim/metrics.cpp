#include "pitlane/sim/metrics.h"

#include <algorithm>
#include <cmath>

#include "pitlane/core/stats.h"
#include "pitlane/core/table.h"
#include "pitlane/track/segment_index.h"

namespace pitlane::sim {
namespace {

constexpr int64_t kOdometryPeriodUs = 50'000;   // 20 Hz, like the original's odometry
constexpr int64_t kDeviationPeriodUs = 10'000;  // 100 Hz

}  // namespace

double normalize_v(double v) {
  return std::clamp((v - 6.5) / 17.5, 0.0, 1.0);
}
double normalize_w(double w) {
  return std::clamp((w + 7.1) / 14.2, 0.0, 1.0);
}

MetricsAccumulator::MetricsAccumulator(const track::Circuit& circuit, int laps, Vec2 start)
    : circuit_(circuit), laps_(laps), s_(circuit.project(start).s), last_odometry_(start) {
  path_.push_back(start);
}

int MetricsAccumulator::on_step(const Pose2& pose, int64_t t_us, int64_t dt_us) {
  // Progress: follow the nearest centre-line point within a window of the last one, so that a
  // road passing close by never makes the car jump ahead.
  const track::TrackPoint near = circuit_.project_near(pose.position, s_, 4.0);
  progress_m_ += circuit_.arc_delta(s_, near.s);
  s_ = near.s;
  max_progress_m_ = std::max(max_progress_m_, progress_m_);
  while (static_cast<int>(lap_times_s_.size()) < laps_ &&
         progress_m_ >= circuit_.length() * static_cast<double>(lap_times_s_.size() + 1)) {
    lap_times_s_.push_back(static_cast<double>(t_us) * 1e-6);
  }
  const double dt = static_cast<double>(dt_us) * 1e-6;
  const bool off_road = near.distance > circuit_.cross_section().road_half_width_m;
  if (off_road) off_road_s_ += dt;
  if (off_road && !off_road_) ++off_road_entries_;
  off_road_ = off_road;
  if (t_us % kOdometryPeriodUs == 0) {
    distance_m_ += distance(pose.position, last_odometry_);
    last_odometry_ = pose.position;
  }
  if (t_us % kDeviationPeriodUs == 0) {
    deviations_.push_back(circuit_.project(pose.position).distance);
    path_.push_back(pose.position);
  }
  return static_cast<int>(lap_times_s_.size());
}

void MetricsAccumulator::on_brain(const Command& command, double latency_ms) {
  commands_.push_back(command);
  latencies_ms_.push_back(latency_ms);
}

double MetricsAccumulator::progress_fraction() const {
  return std::clamp(progress_m_ / (circuit_.length() * laps_), 0.0, 1.0);
}

RunMetrics MetricsAccumulator::finish(int64_t t_us) const {
  RunMetrics m;
  m.laps_requested = laps_;
  m.completed_laps = static_cast<int>(lap_times_s_.size());
  m.completed_fraction = progress_fraction();
  m.completed_distance_m = distance_m_;
  m.lap_times_s = lap_times_s_;
  m.sim_time_s = static_cast<double>(t_us) * 1e-6;
  m.average_speed_mps = m.sim_time_s > 0 ? distance_m_ / m.sim_time_s : 0.0;
  m.deviation_mean_m = mean(deviations_);
  m.deviation_p95_m = percentile(deviations_, 95);
  m.deviation_max_m = max_value(deviations_);
  m.wall_contacts = wall_contacts_;
  m.off_road_s = off_road_s_;
  m.off_road_entries = off_road_entries_;

  // BehaviorMetrics' score: for each ideal-line point passed, 1000^(distance to the driven path).
  if (path_.size() >= 2 && max_progress_m_ > 0) {
    const track::SegmentIndex path_index(path_, /*closed=*/false, /*cell_m=*/1.0);
    const double start_s = circuit_.project(path_.front()).s;
    std::vector<double> terms;
    for (double ds = 0.0; ds <= std::min(max_progress_m_, circuit_.length() * laps_); ds += 0.5) {
      const double d = path_index.nearest(circuit_.point_at(start_s + ds)).distance;
      terms.push_back(std::pow(1000.0, d));
    }
    m.bm_deviation_score = mean(terms);
  }

  m.brain_iterations = static_cast<int>(commands_.size());
  m.brain_hz = m.sim_time_s > 0 ? static_cast<double>(commands_.size()) / m.sim_time_s : 0.0;
  // Like BehaviorMetrics, drop the first and last 10 iterations where there are enough.
  std::span<const double> lat(latencies_ms_);
  if (lat.size() > 40) lat = lat.subspan(10, lat.size() - 20);
  m.inference_ms_p50 = percentile(lat, 50);
  m.inference_ms_p99 = percentile(lat, 99);
  double sudden = 0.0;
  for (size_t i = 1; i < commands_.size(); ++i) {
    sudden += std::hypot(normalize_v(commands_[i].v) - normalize_v(commands_[i - 1].v),
                         normalize_w(commands_[i].w) - normalize_w(commands_[i - 1].w));
  }
  m.suddenness = commands_.size() > 1 ? sudden / static_cast<double>(commands_.size() - 1) : 0.0;
  return m;
}

DrivingScore driving_score(const RunMetrics& m) {
  DrivingScore d;
  d.route_completion = std::clamp(m.completed_fraction, 0.0, 1.0);
  d.on_road_share =
      m.sim_time_s > 0 ? std::clamp(1.0 - m.off_road_s / m.sim_time_s, 0.0, 1.0) : 1.0;
  d.penalty = std::pow(kWallContactPenalty, m.wall_contacts) *
              (m.timed_out ? kTimeoutPenalty : 1.0) * (m.trapped ? kTrappedPenalty : 1.0);
  d.score = 100.0 * d.route_completion * d.on_road_share * d.penalty;
  return d;
}

void score_run(RunMetrics& m) {
  m.driving_score = driving_score(m).score;
  const double km = m.completed_distance_m / 1000.0;
  m.infractions_per_km = km > 0 ? (m.wall_contacts + m.off_road_entries) / km : 0.0;
}

nlohmann::ordered_json to_json(const RunMetrics& m) {
  nlohmann::ordered_json j;
  j["circuit"] = m.circuit;
  j["direction"] = m.direction;
  j["brain"] = m.brain;
  j["seed"] = m.seed;
  j["timing"] = m.timing;
  j["laps_requested"] = m.laps_requested;
  j["completed_laps"] = m.completed_laps;
  j["completed_fraction"] = m.completed_fraction;
  j["completed_distance_m"] = m.completed_distance_m;
  j["lap_times_s"] = m.lap_times_s;
  j["sim_time_s"] = m.sim_time_s;
  j["average_speed_mps"] = m.average_speed_mps;
  j["deviation_mean_m"] = m.deviation_mean_m;
  j["deviation_p95_m"] = m.deviation_p95_m;
  j["deviation_max_m"] = m.deviation_max_m;
  j["bm_deviation_score"] = m.bm_deviation_score;
  j["wall_contacts"] = m.wall_contacts;
  j["off_road_s"] = m.off_road_s;
  j["trapped"] = m.trapped;
  j["timed_out"] = m.timed_out;
  j["termination"] = m.termination;
  j["brain_iterations"] = m.brain_iterations;
  j["brain_hz"] = m.brain_hz;
  j["inference_ms_p50"] = m.inference_ms_p50;
  j["inference_ms_p99"] = m.inference_ms_p99;
  j["suddenness"] = m.suddenness;
  j["off_road_entries"] = m.off_road_entries;
  j["infractions_per_km"] = m.infractions_per_km;
  j["driving_score"] = m.driving_score;
  j["driving_score_version"] = kDrivingScoreVersion;
  return j;
}

nlohmann::ordered_json to_json(const RunTiming& t) {
  nlohmann::ordered_json j;
  j["wall_time_s"] = t.wall_time_s;
  j["real_time_factor"] = t.real_time_factor;
  j["frames_rendered"] = t.frames_rendered;
  j["render_ms_mean"] = t.render_ms_mean;
  j["brain_ms_p50"] = t.brain_ms_p50;
  j["brain_ms_p99"] = t.brain_ms_p99;
  return j;
}

std::string format_table(const RunMetrics& m) {
  Table t({"metric", "value"});
  t.add({"circuit", m.circuit + " (" + m.direction + ")"});
  t.add({"brain", m.brain});
  t.add({"timing", m.timing});
  t.add({"result", m.termination});
  t.add({"completed laps",
         std::to_string(m.completed_laps) + "/" + std::to_string(m.laps_requested)});
  t.add({"completed %", format_fixed(100.0 * m.completed_fraction, 1)});
  std::string laps;
  for (double s : m.lap_times_s) laps += (laps.empty() ? "" : " ") + format_fixed(s, 2);
  t.add({"lap times s", laps.empty() ? "-" : laps});
  t.add({"distance m", format_fixed(m.completed_distance_m, 1)});
  t.add({"average speed m/s", format_fixed(m.average_speed_mps, 2)});
  t.add({"deviation mean m", format_fixed(m.deviation_mean_m, 3)});
  t.add({"deviation p95 m", format_fixed(m.deviation_p95_m, 3)});
  t.add({"deviation max m", format_fixed(m.deviation_max_m, 3)});
  t.add({"BM deviation score", format_fixed(m.bm_deviation_score, 2)});
  t.add({"wall contacts", std::to_string(m.wall_contacts)});
  t.add({"off road s", format_fixed(m.off_road_s, 2)});
  t.add({"brain Hz", format_fixed(m.brain_hz, 1)});
  t.add({"inference ms p50/p99",
         format_fixed(m.inference_ms_p50, 2) + " / " + format_fixed(m.inference_ms_p99, 2)});
  t.add({"suddenness", format_fixed(m.suddenness, 4)});
  t.add({"off-road entries", std::to_string(m.off_road_entries)});
  t.add({"infractions per km", format_fixed(m.infractions_per_km, 2)});
  t.add({std::string("driving score (") + kDrivingScoreVersion + ")",
         format_fixed(m.driving_score, 1)});
  return t.render();
}

}  // namespace pitlane::sim
