// What each stage of the study produces, as plain structs: the stages pass these to each other
// and to the report, and the stage cache stores them as JSON (to_json / from_json, one pair per
// struct). Paths are relative to the run folder (runs/NAME/). Measured times are wall-clock
// figures and sit under "wall_clock" keys in the JSON; everything else is deterministic.
//
// Payloads that another module defines keep that module's JSON (a drive's metrics are
// sim::to_json(RunMetrics)), so the study never restates their fields.
//
//   TrainResult t = run_train(record);              // in the stage
//   cache.store("train", key, to_json(t));
//   TrainResult again;
//   from_json(*cache.lookup("train", key), again);  // the same struct back
//
// to_json(from_json(j)) is j, to the byte, for every j that to_json wrote: results.json is built
// from these and must not depend on whether a stage ran or was reused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pitlane/study/closed_loop.h"

namespace pitlane::study {

// record: the expert's recordings (folders in the DeepLearningStudio layout).
struct RecordResult {
  std::vector<std::string> train_recordings;  // training circuits, plain then perturbed starts
  std::vector<std::string> test_recordings;   // test circuits (offline evaluation only)
  double stage_s = 0.0;                       // wall clock: how long the stage ran, s
};

// One training run (the train stage's, or one DAgger round's).
struct TrainEpoch {
  int epoch = 0;
  double train_loss = 0.0;
  double validation_loss = 0.0;
};
struct TrainEpochWallClock {
  int epoch = 0;
  double seconds = 0.0;
  double images_per_s = 0.0;
};
struct TrainRun {
  std::string model;                         // the written ONNX file
  std::string arch;                          // "pilotnet" or "pilotnet-same"
  std::string parent;                        // "file.onnx sha256:HEX" it started from, or ""
  std::vector<std::string> training_data;    // recording names trained on
  std::vector<std::string> validation_data;  // recording names held out
  int best_epoch = 0;                        // epoch of the kept weights
  double best_validation_mse = 0.0;
  std::vector<TrainEpoch> epochs;
  // Wall clock.
  double decode_s = 0.0;  // loading and preprocessing the recordings, s
  double total_s = 0.0;
  std::vector<TrainEpochWallClock> epoch_times;
};

// train: PilotNet on the training recordings.
struct TrainResult {
  TrainRun run;          // its model is models/pilotnet.onnx
  double stage_s = 0.0;  // wall clock
};

// dagger: rounds of (the model drives, the expert labels, fine-tune on everything).
struct DaggerRound {
  TrainRun run;                         // the fine-tuned model of this round
  std::vector<std::string> recordings;  // what this round recorded
};
struct DaggerResult {
  std::string initial_model;  // the train stage's model, where round 1 starts
  std::string model;          // the baseline: the last round's model (initial_model if none)
  std::vector<DaggerRound> rounds;
  double stage_s = 0.0;  // wall clock
};

// optimize: one model per recipe variant, made from the baseline.
struct OptimizedModel {
  std::string name;    // the model's name in the results (the variant's: the recipe's by default)
  std::string file;    // models/NAME.onnx
  std::string recipe;  // the variant's recipe
  std::string report;  // models/NAME.report.json
  // A training-time recipe (fine-tuned: sparsity, phase times) or a post-training one (the
  // layers with the lowest SQNR, worst first).
  bool fine_tuned = false;
  double sparsity = 0.0;                  // fine-tuned: fraction of zero weights
  std::vector<double> phase_seconds;      // fine-tuned, wall clock: each phase's time, s
  std::vector<std::string> worst_layers;  // post-training
};
struct OptimizeResult {
  std::vector<OptimizedModel> models;  // in the order of optimize.recipes
  double stage_s = 0.0;                // wall clock
};

// evaluate: each model offline on the test recordings.
struct RecordingError {
  std::string recording;
  double mse = 0.0;    // normalized, both outputs
  double mae_w = 0.0;  // rad/s
};
struct OfflineRow {
  std::string model;   // "baseline", a recipe variant's name or a user's model's
  std::string recipe;  // "baseline", the variant's recipe, or "user" (the users' own models)
  std::string file;
  std::string sha256;  // of the file
  int64_t bytes = 0;
  int64_t gzip_bytes = 0;
  int64_t frames = 0;               // test frames
  double mse = 0.0, mae = 0.0;      // normalized labels, both outputs (the study's figures)
  double mse_v = 0.0, mse_w = 0.0;  // normalized, per output
  double mae_v_mps = 0.0;           // m/s
  double mae_w_radps = 0.0;         // rad/s
  std::vector<RecordingError> per_recording;
  // Wall clock.
  double seconds = 0.0;  // inference time
  double images_per_s = 0.0;
};
struct EvaluateResult {
  std::vector<OfflineRow> offline;  // the baseline, each optimized model, the users' models
  double stage_s = 0.0;             // wall clock
};

// benchmark: each brain's latency on this machine.
struct LatencyRow {
  std::string model;        // "expert", "baseline" or a recipe's model
  double latency_ms = 0.0;  // the median rounded up to the quantum: what the drives use
  LatencyStats measured;    // wall clock
};
struct BenchmarkResult {
  std::vector<LatencyRow> latency;  // the expert (if it drives) first, then each model
  double stage_s = 0.0;             // wall clock
};

// drive: every closed-loop run.
struct DriveRun {
  std::string model;
  double slowdown = 1.0;  // the emulated device's factor on the latency
  std::string circuit;
  std::string direction;  // "cw" | "ccw"
  int repetition = 0;
  std::string trajectory;             // gzip CSV, relative to the run folder; "" when not written
  nlohmann::ordered_json metrics;     // sim::to_json(RunMetrics)
  nlohmann::ordered_json wall_clock;  // sim::to_json(RunTiming)
};
struct DriveResult {
  std::vector<DriveRun> runs;  // in job order: model, slowdown, circuit, direction, repetition
  double stage_s = 0.0;        // wall clock
};

// Every cached stage's result, as the report reads them.
struct StudyStages {
  RecordResult record;
  TrainResult train;
  DaggerResult dagger;
  OptimizeResult optimize;
  EvaluateResult evaluate;
  BenchmarkResult benchmark;
  DriveResult drive;
};

// The stage results as the cache stores them. A stage that writes files lists them under
// "files" (what StageCache::lookup checks still exists). from_json throws
// nlohmann::json::exception when `j` lacks a field or holds another type.
nlohmann::ordered_json to_json(const TrainRun& r);
nlohmann::ordered_json to_json(const DaggerRound& r);
nlohmann::ordered_json to_json(const OptimizedModel& m);
nlohmann::ordered_json to_json(const OfflineRow& r);
nlohmann::ordered_json to_json(const LatencyRow& r);
nlohmann::ordered_json to_json(const DriveRun& r);
nlohmann::ordered_json to_json(const RecordResult& r);
nlohmann::ordered_json to_json(const TrainResult& r);
nlohmann::ordered_json to_json(const DaggerResult& r);
nlohmann::ordered_json to_json(const OptimizeResult& r);
nlohmann::ordered_json to_json(const EvaluateResult& r);
nlohmann::ordered_json to_json(const BenchmarkResult& r);
nlohmann::ordered_json to_json(const DriveResult& r);

void from_json(const nlohmann::ordered_json& j, TrainRun& r);
void from_json(const nlohmann::ordered_json& j, DaggerRound& r);
void from_json(const nlohmann::ordered_json& j, OptimizedModel& m);
void from_json(const nlohmann::ordered_json& j, OfflineRow& r);
void from_json(const nlohmann::ordered_json& j, LatencyRow& r);
void from_json(const nlohmann::ordered_json& j, DriveRun& r);
void from_json(const nlohmann::ordered_json& j, RecordResult& r);
void from_json(const nlohmann::ordered_json& j, TrainResult& r);
void from_json(const nlohmann::ordered_json& j, DaggerResult& r);
void from_json(const nlohmann::ordered_json& j, OptimizeResult& r);
void from_json(const nlohmann::ordered_json& j, EvaluateResult& r);
void from_json(const nlohmann::ordered_json& j, BenchmarkResult& r);
void from_json(const nlohmann::ordered_json& j, DriveResult& r);

}  // namespace pitlane::study
