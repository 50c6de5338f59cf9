// The study's closed-loop work: timing a brain the way BehaviorMetrics did (the timed part of
// act() on real camera frames), and many independent drives run in parallel (drive/).
//
//   LatencyStats s = measure_brain_latency(brain, /*warmup=*/20, /*runs=*/200);
//   std::vector<DriveOutcome> out = run_drives(jobs, /*parallel=*/2, /*progress=*/true);
#pragma once

#include "pitlane/drive/drive_runner.h"
#include "pitlane/sim/brain.h"

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

// The study's drives are drive/'s (drive_runner.h): many seeded episodes in parallel, results
// in job order.
using DriveJob = drive::DriveJob;
using DriveOutcome = drive::DriveOutcome;
using drive::run_drives;

}  // namespace pitlane::study
