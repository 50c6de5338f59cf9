// Episode: one closed-loop run of a brain on a circuit, stepped in simulated time.
//
// Time is integer microseconds. Physics steps every 1 ms; the camera captures the car's pose
// every 50 ms (rendered only when a brain reads it); brain iterations follow the TimingModel.
// Wall contact stops the car against the wall and is counted. The run ends when the laps are
// done, the car is trapped (moved < 0.5 m in a 10 s check) or time runs out (1.1 x the
// reference lap time per lap), as in BehaviorMetrics.
//
//   Renderer renderer(circuit);
//   ExplicitBrain expert;
//   EpisodeResult r = run_episode(circuit, renderer, expert, EpisodeConfig{});
//   std::cout << format_table(r.metrics);
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "pitlane/sim/brain.h"
#include "pitlane/sim/metrics.h"
#include "pitlane/sim/renderer.h"
#include "pitlane/sim/timing.h"
#include "pitlane/sim/trajectory.h"
#include "pitlane/sim/vehicle.h"
#include "pitlane/track/circuit.h"

namespace pitlane::sim {

// Recovery segments for recordings: now and then the executed yaw rate is pushed off what the
// brain asked, so the car drifts off the line and the brain's corrections get recorded.
struct Disturbance {
  double mean_interval_s = 0.0;  // average time between pushes; 0 = none
  double duration_s = 0.7;       // length of each push
  double max_w = 1.8;            // rad/s added to the executed w, uniform in +-max_w
};

struct EpisodeConfig {
  int laps = 1;
  uint64_t seed = 0;          // start pose, style randomization, disturbances
  TimingModel timing;         // default fixed:5
  bool random_start = false;  // seeded start anywhere, perturbed; else the circuit's start
  track::StartPerturbation perturbation;
  double timeout_s = 0.0;        // 0: laps x reference lap time x 1.1
  RenderStyle style;             // how frames look
  bool randomize_style = false;  // draw a RenderStyle from the seed instead
  bool weather = false;          // seeded weather-like look: overcast or dusk light, and haze
  Disturbance disturbance;
  VehicleModel vehicle;
  int64_t physics_step_us = 1000;
  bool record_trajectory = false;  // fill EpisodeResult::trajectory (one sample per camera frame)
};

// What an observer sees at each brain iteration (after the brain answered).
struct IterationView {
  int iteration = 0;
  int64_t t_us = 0;                // when the iteration started
  const cv::Mat* frame = nullptr;  // the frame the brain saw (BGR 480x640)
  Command command;                 // what it answered
  Pose2 pose;                      // the car now
  double speed_mps = 0.0;          // the command being executed now
  double progress = 0.0;           // fraction of the requested laps
  double lateral_m = 0.0;          // signed offset from the centre line
};

class EpisodeObserver {
 public:
  virtual ~EpisodeObserver() = default;
  // Return false to end the run early (e.g. a recorder with enough frames).
  virtual bool on_iteration(const IterationView& view) = 0;
};

struct EpisodeResult {
  RunMetrics metrics;
  RunTiming timing;
  Pose2 start;
  std::vector<TrajectorySample> trajectory;  // when config.record_trajectory; else empty
};

EpisodeResult run_episode(const track::Circuit& circuit, Renderer& renderer, sim::Brain& brain,
                          const EpisodeConfig& config, EpisodeObserver* observer = nullptr);

}  // namespace pitlane::sim
