// A run folder as `pitlane study` writes it, made by hand in a few seconds for the report's tests:
// the newest results schema (metric_version, closed_loop_verdicts, stored trajectories) with the
// expert and two constant PilotNets ("baseline" and "int8", the second with a quantization report
// and a "prune" report beside it). Repetition 0 of every model is driven for real on
// simple_circuit (4 s) exactly as the study drives, its metrics and trajectory stored; repetition
// 1 is made up (never re-driven by the tests).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "../study/study_test_files.h"
#include "pitlane/brain/explicit_brain.h"
#include "pitlane/brain/neural_brain.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/episode.h"
#include "pitlane/sim/metrics.h"
#include "pitlane/sim/renderer.h"
#include "pitlane/sim/trajectory.h"
#include "pitlane/track/circuit.h"

namespace pitlane::report::fixture {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr double kTimeoutS = 4.0;
constexpr double kLatencyMs = 10.0;
constexpr uint64_t kSeed = 11;

// Drives `model` (file empty: the expert) as the study's drive stage does and stores the run.
inline Json drive(const fs::path& dir, const std::string& model, const fs::path& file) {
  const track::Circuit circuit = track::load_circuit("simple_circuit");
  std::unique_ptr<sim::Brain> brain;
  if (file.empty()) {
    brain = std::make_unique<brain::ExplicitBrain>();
  } else {
    brain = std::make_unique<brain::NeuralBrain>(file, brain::NeuralBrainOptions{});
  }
  sim::EpisodeConfig config;
  config.seed = kSeed;
  config.timing.fixed_ms = kLatencyMs;
  config.timeout_s = kTimeoutS;
  config.record_trajectory = true;
  sim::Renderer renderer(circuit);
  sim::EpisodeResult r = sim::run_episode(circuit, renderer, *brain, config);
  r.metrics.brain = model;
  const std::string trajectory = "drives/" + model + "_simple_circuit_cw_x1_r0.csv.gz";
  sim::write_trajectory(dir / trajectory, r.trajectory);
  return {{"model", model},
          {"slowdown", 1.0},
          {"circuit", "simple_circuit"},
          {"direction", "cw"},
          {"repetition", 0},
          {"trajectory", trajectory},
          {"metrics", sim::to_json(r.metrics)},
          {"wall_clock", Json::object()}};
}

inline Json made_up_repetition(Json run) {
  run["repetition"] = 1;
  run.erase("trajectory");
  run["metrics"]["seed"] = kSeed + 1;
  run["metrics"]["driving_score"] = run["metrics"]["driving_score"].get<double>() + 1.0;
  return run;
}

inline Json interval(double estimate, double low, double high) {
  return {{"estimate", estimate}, {"low", low}, {"high", high}};
}

inline Json verdict_row(const std::string& model, double score, const char* verdict) {
  Json row = {{"model", model},
              {"slowdown", 1.0},
              {"episodes", 2},
              {"completed", 0},
              {"completion", interval(0, 0, 0.66)},
              {"driving_score", interval(score, score - 5, score + 5)},
              {"average_speed_mps", interval(8, 7, 9)},
              {"deviation_mean_m", interval(0.3, 0.2, 0.4)},
              {"infractions_per_km", interval(10, 0, 20)}};
  if (verdict) {
    row["vs_baseline"] = {{"metric", "driving_score"},
                          {"pairs", 2},
                          {"difference", interval(score - 20, score - 25, score - 15)},
                          {"verdict", verdict}};
  }
  return row;
}

// Writes the run into `dir` and returns its results.json.
inline Json write_run(const fs::path& dir, const std::string& name) {
  fs::create_directories(dir / "models");
  fs::create_directories(dir / "drives");
  using study::test_files::write_constant_model;
  write_constant_model(dir / "models" / "baseline.onnx", 0.1f, 0.52f, true);
  write_constant_model(dir / "models" / "int8.onnx", 0.1f, 0.48f, true);
  write_file_atomic(dir / "models" / "int8.report.json",
                    R"({"recipe": "int8", "layers": [
                      {"layer": "conv1", "sqnr_db": 38.4, "cosine": 0.99993, "max_abs_error": 0.03},
                      {"layer": "dense1", "sqnr_db": 46.8, "cosine": 0.99999, "max_abs_error": 0.02}],
                      "worst_layers": ["conv1"]})");

  Json results;
  results["study"] = name;
  results["config"] = {{"name", name},
                       {"seed", kSeed},
                       {"drive",
                        {{"circuits", {"simple_circuit"}},
                         {"directions", {"cw"}},
                         {"repetitions", 2},
                         {"perturb", {"start", "style"}},
                         {"laps", 1},
                         {"timeout_s", kTimeoutS},
                         {"timing", "benchmark"}}}};
  auto offline = [](const char* model, const char* recipe, double bytes, double mse) {
    return Json{{"model", model},
                {"recipe", recipe},
                {"file", std::string("models/") + model + ".onnx"},
                {"bytes", bytes},
                {"gzip_bytes", bytes * 0.9},
                {"mse", mse},
                {"mae", 0.1},
                {"mae_w_radps", 0.5},
                {"wall_clock",
                 {{"latency",
                   {{"median_ms", 0.5},
                    {"p90_ms", 0.6},
                    {"p99_ms", 0.8},
                    {"min_ms", 0.4},
                    {"max_ms", 1.0},
                    {"runs", 50}}}}},
                {"latency_ms", kLatencyMs}};
  };
  results["offline"] = {offline("baseline", "baseline", 6.4e6, 0.02),
                        offline("int8", "int8", 1.6e6, 0.021)};
  results["expert_latency"] = {{"model", "expert"},
                               {"latency_ms", kLatencyMs},
                               {"wall_clock", {{"median_ms", 0.2}, {"p99_ms", 0.3}, {"runs", 50}}}};
  Json runs = Json::array();
  for (const auto& [model, file] :
       std::vector<std::pair<std::string, fs::path>>{{"expert", {}},
                                                     {"baseline", dir / "models/baseline.onnx"},
                                                     {"int8", dir / "models/int8.onnx"}}) {
    const Json r0 = drive(dir, model, file);
    runs.push_back(r0);
    runs.push_back(made_up_repetition(r0));
  }
  results["closed_loop"] = runs;
  results["metric_version"] = sim::kDrivingScoreVersion;
  results["closed_loop_verdicts"] = {verdict_row("expert", 40, "better"),
                                     verdict_row("baseline", 20, nullptr),
                                     verdict_row("int8", 18, "equal")};
  results["wall_clock"] = {{"total_s", 12.0}, {"stage_s", {{"drive", 3.0}}}};
  write_file_atomic(dir / "results.json", results.dump(2) + "\n");
  return results;
}

}  // namespace pitlane::report::fixture
