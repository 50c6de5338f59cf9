// The study's closed-loop work: timing a brain the way BehaviorMetrics did (the timed part of
// act() on real camera frames), and many independent drives run in parallel.
//
// Each drive builds its own circuit, renderer and brain, so drives share nothing and run on a
// small pool of threads; the results come back in job order, and with a deterministic timing
// model they are the same bytes however many threads ran them.
//
//   LatencyStats s = measure_brain_latency(brain, /*warmup=*/20, /*runs=*/200);
//   std::vector<DriveOutcome> out = run_drives(jobs, /*parallel=*/2, /*progress=*/true);
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pitlane/sim/brain.h"
#include "pitlane/sim/metrics.h"
#include "pitlane/sim/timing.h"

namespace pitlane::study {

struct LatencyStats {
  int runs = 0;
  double median_ms = 0, p90_ms = 0, p99_ms = 0, min_ms = 0, max_ms = 0;
};

// Renders frames along the simple circuit's centre line and times `brain` on them: `warmup`
// untimed calls, then `runs` calls reporting brain.last_inference_ms().
LatencyStats measure_brain_latency(sim::Brain& brain, int warmup, int runs);

// `ceil(ms / quantum) * quantum`: a benchmarked median made robust to a rerun's jitter.
double quantize_latency(double ms, double quantum_ms);

struct DriveJob {
  std::string model;           // name in the results ("expert", "baseline", a recipe)
  std::filesystem::path file;  // the model's ONNX file; empty for the expert
  sim::TimingModel timing;     // what the brain's latency is in simulated time
  double slowdown = 1.0;       // for the results: the emulated device's factor
  std::string circuit;         // built-in name or CSV path
  std::string direction;       // "cw" | "ccw"
  int repetition = 0;          // for the results; the seed below is what varies the episode
  uint64_t seed = 0;           // the episode's seed: the same for every model (paired runs)
  bool perturb_start = false;  // a seeded off-centre, mis-headed start anywhere on the circuit
  bool perturb_style = false;  // seeded lighting, colour, camera noise and sometimes fog
  bool weather = false;        // seeded overcast or dusk light and haze
  int laps = 1;
  double timeout_s = 0.0;            // 0: the circuit's default
  std::filesystem::path trajectory;  // write the trajectory here (gzip CSV); empty: none
};

struct DriveOutcome {
  DriveJob job;
  sim::RunMetrics metrics;
  sim::RunTiming timing;
};

// Runs every job, `parallel` at a time. The first failure (a model that cannot load) is
// rethrown after the running drives finish. `on_done(i, outcome)`, when given, is called on the
// worker thread as soon as job i finishes (a shard stores each drive then, so that a killed
// shard keeps the drives it finished); an exception from it counts as that job's failure.
std::vector<DriveOutcome> run_drives(
    const std::vector<DriveJob>& jobs, int parallel, bool progress,
    const std::function<void(size_t, const DriveOutcome&)>& on_done = {});

}  // namespace pitlane::study
