// Latency benchmark of a Session: warm-up, then timed runs (wall clock per run()), then a
// separate profiled pass for the per-step breakdown so that profiling never perturbs the
// headline numbers. Inputs are seeded random normals, or one given sample (a real camera frame:
// the zero-skipping Gemm's speed depends on how many of the ReLU outputs are zero).
//
//   BenchResult r = benchmark(model, {.backend = Backend::onednn, .threads = 1, .batch = 1},
//                             {.runs = 200, .warmup = 20});
//   r.median_us, r.p99_us, r.steps[i].median_us
#pragma once

#include <string>
#include <vector>

#include "pitlane/runtime/model.h"

namespace pitlane::runtime {

struct BenchOptions {
  int runs = 200;         // timed runs
  int warmup = 20;        // untimed runs first
  int profile_runs = 50;  // runs of the per-step profile (0: none)
  // One sample of the first input, repeated over the batch; empty: seeded normals.
  std::vector<float> input;
};

struct StepProfile {
  std::string name;        // "conv1 (Conv+relu)"
  double median_us = 0.0;  // median over the profile runs
};

struct BenchResult {
  std::string backend;
  int threads = 1;
  int64_t batch = 1;
  std::vector<double> latency_us;  // every timed run, in order
  double min_us = 0, median_us = 0, p90_us = 0, p99_us = 0, max_us = 0, mean_us = 0;
  double samples_per_s = 0;  // batch / median latency
  std::vector<StepProfile> steps;
  size_t arena_bytes = 0;     // activations + scratchpad
  size_t constant_bytes = 0;  // weights as the plan holds them
  size_t peak_rss_bytes = 0;  // process peak resident set after the runs
};

BenchResult benchmark(const Model& model, const SessionOptions& options, const BenchOptions& bench);

}  // namespace pitlane::runtime
