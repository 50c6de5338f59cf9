// The trajectory of a closed-loop run: one sample per camera frame (every 50 ms of simulated
// time), written as gzip-compressed CSV beside a run's results so that reports and users can plot
// it. The bytes are deterministic (fixed formatting, a gzip header without a timestamp), like the
// results they sit beside.
//
//   EpisodeConfig config;  config.record_trajectory = true;
//   EpisodeResult r = run_episode(circuit, renderer, brain, config);
//   write_trajectory("runs/x/drives/baseline_montreal_cw_0.csv.gz", r.trajectory);
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace pitlane::sim {

struct TrajectorySample {
  double t_s = 0.0;  // simulated time since the start, s
  double x_m = 0.0;  // the car's origin, world frame, m
  double y_m = 0.0;
  double heading_rad = 0.0;  // the car's heading, world frame, rad
  double s_m = 0.0;          // arc length of its nearest centre-line point, m
  double lateral_m = 0.0;    // signed offset from the centre line, left positive, m
  double v_cmd_mps = 0.0;    // the brain's latest command (in effect after its latency)
  double w_cmd_radps = 0.0;
  double v_mps = 0.0;  // what the car executes now (after latency and pushes)
  double w_radps = 0.0;
  double latency_ms = 0.0;  // the latency the timing model applied to the latest command
};

// The CSV header line (without newline): t_s,x_m,y_m,heading_rad,s_m,lateral_m,...
const std::string& trajectory_csv_header();
// The samples as CSV text (header, then one row each; 6 decimals, 3 for milliseconds).
std::string trajectory_csv(std::span<const TrajectorySample> samples);
// gzip of trajectory_csv(), written atomically.
void write_trajectory(const std::filesystem::path& path, std::span<const TrajectorySample> samples);
// Reads a file write_trajectory() wrote. InputError naming the file and line otherwise.
std::vector<TrajectorySample> read_trajectory(const std::filesystem::path& path);

}  // namespace pitlane::sim
