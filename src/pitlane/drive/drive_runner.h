// Many independent closed-loop drives, run in parallel.
//
// Each drive builds its own circuit, renderer and brain, so drives share nothing and run on a
// small pool of threads; the results come back in job order, and with a deterministic timing
// model (fixed:MS) they are the same bytes however many threads ran them. Paired comparisons
// rest on this: two models driven with the same seeds meet exactly the same episodes.
//
//   DriveJob job{.model = "int8", .file = "int8.onnx", .circuit = "montmelo",
//                .direction = "cw", .seed = 42};
//   std::vector<DriveOutcome> out = run_drives({job}, /*parallel=*/2, /*progress=*/true);
//   out[0].metrics.driving_score;
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <memory>

#include "pitlane/runtime/model.h"
#include "pitlane/sim/brain.h"
#include "pitlane/sim/episode.h"
#include "pitlane/sim/metrics.h"
#include "pitlane/sim/timing.h"

namespace pitlane::drive {

struct DriveJob {
  std::string model;           // name in the results ("expert", "baseline", a recipe)
  std::filesystem::path file;  // the model's ONNX file; empty for the expert
  runtime::Backend backend = runtime::Backend::automatic;  // where the network runs
  int threads = 1;                                         // its kernel threads
  sim::TimingModel timing;       // what the brain's latency is in simulated time
  std::string circuit;           // built-in name, generated:SEED or CSV path
  std::string direction = "cw";  // "cw" | "ccw"
  int repetition = 0;            // for the results; the seed below is what varies the episode
  double slowdown = 1.0;         // for the results: the emulated device's factor (in `timing`)
  uint64_t seed = 0;             // the episode's seed: the same for every model (paired runs)
  bool perturb_start = false;    // a seeded off-centre, mis-headed start anywhere on the circuit
  bool perturb_style = false;    // seeded lighting, colour, camera noise and sometimes fog
  bool weather = false;          // seeded overcast or dusk light and haze
  int laps = 1;
  double timeout_s = 0.0;            // 0: the circuit's default
  std::filesystem::path trajectory;  // write the trajectory here (gzip CSV); empty: none
};

struct DriveOutcome {
  DriveJob job;
  sim::RunMetrics metrics;  // deterministic with a fixed timing model
  sim::RunTiming timing;    // wall clock
};

// The brain a job drives with (the expert when it has no file) and the episode it drives, as
// run_drives sets them up: for whoever runs the same episode again (the report re-drives and
// films study runs this way, and must meet exactly the episode the study drove).
std::unique_ptr<sim::Brain> make_brain(const DriveJob& job);
sim::EpisodeConfig episode_config(const DriveJob& job);

// Runs every job, `parallel` at a time, with a progress bar on stderr when `progress`. The
// first failure (a model that cannot load: InputError) is rethrown after the running drives
// finish. `on_done(i, outcome)`, when given, is called on the worker thread as soon as job i
// finishes (a study shard stores each drive then, so that a killed shard keeps the drives it
// finished); an exception from it counts as that job's failure.
std::vector<DriveOutcome> run_drives(
    const std::vector<DriveJob>& jobs, int parallel, bool progress,
    const std::function<void(size_t, const DriveOutcome&)>& on_done = {});

}  // namespace pitlane::drive
