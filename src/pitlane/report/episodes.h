// Re-driving a study's closed-loop run exactly: the study stores no videos, but every run is
// deterministic given its model, circuit, direction, seed and timing (all in results.json), so
// the report drives the runs it shows again, checks that the metrics come out the same bytes,
// and films them (clip.h).
//
//   EpisodeSpec spec = episode_spec(run_dir, results, results["closed_loop"][0]);
//   Replay r = replay(spec);          // r.matches: the same metrics as in results.json
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "pitlane/sim/episode.h"
#include "pitlane/sim/timing.h"

namespace pitlane::report {

struct EpisodeSpec {
  std::string model;           // name in the results ("expert", "baseline", a recipe)
  std::filesystem::path file;  // the model's ONNX file; empty for the expert
  std::string circuit;         // built-in name or CSV path
  std::string direction;       // "cw" | "ccw"
  double slowdown = 1.0;       // the emulated device's factor
  int repetition = 0;          // 0: the nominal run; later ones perturbed (below)
  uint64_t seed = 0;           // the run's seed (its metrics)
  bool perturb_start = false;  // a seeded off-centre, mis-headed start
  bool perturb_style = false;  // the renderer's seeded style (light, colour, noise, fog)
  bool weather = false;        // seeded overcast or dusk light and haze
  int laps = 1;                // laps requested
  double timeout_s = 0.0;      // config.drive.timeout_s (0: the circuit's default)
  sim::TimingModel timing;     // what the study's drive applied
  std::string recorded;        // the run's metrics as results.json holds them (JSON text)
};

// The spec of closed-loop run `run` (an element of results.closed_loop) of the study in
// `run_dir`: the timing as the study made it (drive.timing "benchmark": the model's benchmarked
// latency times the slowdown; else drive.timing with the slowdown applied) and the perturbations
// of a repetition after the first (drive.perturb; results without it perturbed the start only).
// InputError naming what is missing (the model file, its latency).
EpisodeSpec episode_spec(const std::filesystem::path& run_dir,
                         const nlohmann::ordered_json& results, const nlohmann::ordered_json& run);

struct Replay {
  sim::EpisodeResult result;  // with the trajectory
  bool matches = false;       // the metrics are the recorded ones, byte for byte
  std::string difference;     // otherwise: the first metric that differs, "key: recorded -> now"
};

// Drives the episode as the study did (its own circuit, renderer and brain). With an observer
// that ends the run early the metrics cannot match; `matches` is then false.
Replay replay(const EpisodeSpec& spec, sim::EpisodeObserver* observer = nullptr);

}  // namespace pitlane::report
