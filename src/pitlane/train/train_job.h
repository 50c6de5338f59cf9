// A whole training run as the CLI and the study do it: load the recordings with the model's
// preprocessing, split by recording (or take explicit validation folders), train, write the
// self-describing ONNX model and a JSON summary beside it. Optionally fine-tunes from a
// pitlane-written model (its preprocessing and output ranges carry over; the parent is recorded
// in the metadata with its SHA-256).
//
//   TrainJob job;  job.data = {"rec/many_curves_cw"};  job.out = "pilotnet.onnx";
//   TrainJobResult r = run_train_job(job);
//   std::cout << train_table(r);
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pitlane/data/model_metadata.h"
#include "pitlane/train/trainer.h"

namespace pitlane::train {

struct TrainJob {
  std::vector<std::filesystem::path> data;        // training recordings
  std::vector<std::filesystem::path> validation;  // explicit validation recordings, or none
  double validation_fraction = 0.2;  // without explicit ones: whole recordings held out
  TrainConfig config;                // arch is taken from `init` when that is set
  std::filesystem::path init;        // fine-tune from this model ("" = fresh weights)
  std::filesystem::path out;         // model .onnx
  std::filesystem::path summary;     // JSON summary ("" = OUT.train.json)
  int load_threads = 2;              // PNG decoding threads
};

struct TrainJobResult {
  TrainResult result;
  data::ModelMetadata metadata;  // as written into the model
  std::vector<std::string> validation_names;
  double decode_s = 0.0;  // loading and preprocessing the recordings, s
  double total_s = 0.0;
  nlohmann::json summary;  // what was written to the summary file
};

TrainJobResult run_train_job(const TrainJob& job);

// Recordings decoded with `spec` and split into training and validation: the `validation`
// folders when given, else whole recordings held out (validation_fraction, seeded).
struct TrainingData {
  std::vector<data::Recording> recs;
  std::vector<int> train_ids, validation_ids;
  double decode_s = 0.0;
};
TrainingData load_training_data(const std::vector<std::filesystem::path>& data,
                                const std::vector<std::filesystem::path>& validation,
                                const data::PreprocessSpec& spec, double validation_fraction,
                                uint64_t seed, int load_threads, bool progress);

// Per-epoch table and a short paragraph on what was trained, for the terminal.
std::string train_table(const TrainJobResult& r, const std::filesystem::path& out);

}  // namespace pitlane::train
