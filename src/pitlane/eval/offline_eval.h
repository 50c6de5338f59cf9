// Offline evaluation of a driving model on recordings, the way the study measured it (MSE and
// MAE on normalized labels) plus what it left out: errors in physical units, per recording, and
// the model's size raw and gzipped.
//
//   EvalReport r = evaluate_model("model.onnx", {"data/simple_circuit_cw"}, {});
//   std::cout << eval_table(r);
//   write_file_atomic("eval.json", eval_json(r));
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "pitlane/data/dataset.h"
#include "pitlane/eval/model_runner.h"

namespace pitlane::eval {

struct EvalConfig {
  int batch_size = 64;   // images per inference call
  int threads = 2;       // executor threads
  int load_threads = 2;  // PNG decoding threads
};

// Errors over a set of frames. Normalized errors average over both outputs (Keras' MSE).
struct EvalMetrics {
  std::string recording;  // recording name, or "overall"
  int64_t frames = 0;
  double mse = 0.0;                 // mean squared error on normalized labels, both outputs
  double mae = 0.0;                 // mean absolute error on normalized labels, both outputs
  double mse_v = 0.0, mse_w = 0.0;  // normalized MSE per output
  double mae_v = 0.0;               // mean |v_pred - v|, m/s (prediction de-normalized)
  double mae_w = 0.0;               // mean |w_pred - w|, rad/s
};

struct EvalReport {
  std::string model;             // model file name
  std::string arch, recipe;      // from its metadata ("" if absent)
  int64_t model_bytes = 0;       // file size
  int64_t model_gzip_bytes = 0;  // gzip -6 of the file
  std::vector<EvalMetrics> per_recording;
  EvalMetrics overall;
  double seconds = 0.0;       // wall time of inference (not loading), s
  double images_per_s = 0.0;  // inference throughput at this batch size
};

// Runs `model` on every frame of `recs` (images must be loaded with the model's preprocessing).
EvalReport evaluate_recordings(OpenedModel& model, const std::vector<data::Recording>& recs,
                               const EvalConfig& config);

// Opens the model, loads the recordings with its preprocessing, evaluates, and fills sizes.
EvalReport evaluate_model(const std::filesystem::path& model,
                          std::span<const std::filesystem::path> data, const EvalConfig& config);

std::string eval_json(const EvalReport& report);
std::string eval_table(const EvalReport& report);

}  // namespace pitlane::eval
