// A study's run as the report reads it: results.json, the optimized models' own reports
// (models/NAME.report.json) and the drives' trajectories (drives/*.csv.gz), turned into the plain
// JSON the page's script draws. Every function here is pure over its inputs (files are read, none
// written), so tests build a run folder by hand and check the tables.
//
//   Json results = read_results("runs/quick");
//   Json table = closed_loop_table(results);   // {"source": "closed_loop_verdicts", "rows": [...]}
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pitlane/sim/trajectory.h"

namespace pitlane::report {

using Json = nlohmann::ordered_json;

// RUN_DIR/results.json, checked for the keys the report reads (study, config, offline,
// closed_loop). InputError naming the file and the fix otherwise.
Json read_results(const std::filesystem::path& run_dir);

// The driving score's version the results were computed with: results.metric_version, else the
// one in the runs' metrics, else "unknown".
std::string metric_version(const Json& results);

// Offline rows: model, recipe, bytes, gzip_bytes, mse, mae, mae_w_radps, latency_ms (the fixed
// latency the drives used) and the benchmark's latency summary when measured.
Json offline_table(const Json& results);

// Closed loop per (model, slowdown): {"source", "rows"}. The rows of results.closed_loop_verdicts
// when present (mean and 95% interval of each metric, paired verdict vs the baseline); otherwise
// computed from the per-run rows (results.closed_loop): Student-t intervals of the means, a
// Wilson interval of the completion rate, and no verdicts (source "closed_loop").
Json closed_loop_table(const Json& results);

// The benchmark's latency summary per brain (min, median, p90, p99, max, runs) and the fixed
// latency the drives applied. results.json holds no per-sample latencies.
Json latency_table(const Json& results);

// One point per (model, slowdown) with a model size: the latency the drives applied (ms), the
// mean driving score and the size (bytes); "front" marks the Pareto front of lower latency,
// higher score and smaller size.
Json pareto_points(const Json& results, const Json& closed_loop);

// Per optimized model with a report (models/NAME.report.json beside its ONNX file): the per-layer
// quantization error of post-training recipes (the report's layer entries as they are: sqnr_db,
// cosine, max_abs_error, and own_sqnr_db, precision, mse where written) and the per-layer
// sparsity and clusters of training-time ones; "worst_layers" when the report names them.
Json quantization_layers(const std::filesystem::path& run_dir, const Json& results);

// A run's trajectory as the page draws it: at most `max_points` samples (evenly strided), with
// the progress along the lap unwrapped over the circuit's length. Columns: x, y (m), v (m/s),
// lateral (m, left positive), progress (m from the start), t (s).
Json trajectory_series(std::span<const sim::TrajectorySample> samples, double circuit_length_m,
                       size_t max_points);

// The circuit's centre line as [[x, y], ...] every `step_m` metres, for the maps.
Json centre_line(const std::string& circuit, const std::string& direction, double step_m);

// A closed-loop run named by what it was: circuit, direction, model, slowdown and repetition.
struct RunKey {
  std::string model;
  double slowdown = 1.0;
  std::string circuit;
  std::string direction;
  int repetition = 0;
  bool operator==(const RunKey&) const = default;
};
RunKey run_key(const Json& closed_loop_run);
// "baseline", "baseline x30"
std::string variant_label(const std::string& model, double slowdown);

}  // namespace pitlane::report
