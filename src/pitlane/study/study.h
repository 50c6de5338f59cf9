// `pitlane study`: the whole study as plain stages, each cached by a hash of its inputs.
//
//   record     the expert drives the training circuits (plain and perturbed starts) and the
//              test circuits (offline test set)                    -> data/train, data/test
//   train      PilotNet on the training recordings (the expert's and the users' own,
//              record.recordings)                                  -> models/pilotnet.onnx
//   dagger     rounds of: the model drives, the expert labels, fine-tune on everything
//                                                                  -> models/pilotnet_daggerN.onnx
//   optimize   each recipe (variant) of optimize.recipes applied to the baseline
//                                                                  -> models/NAME.onnx
//              then the users' own models (config `models`) join  -> models/NAME.onnx (copies)
//   evaluate   offline: size, gzipped size, MSE, MAE on the test recordings (the expert's and
//              the users' own, evaluate.recordings)
//   benchmark  each model's latency on pitlane's runtime (and the expert's)
//   drive      every model and the expert on every test circuit, direction and repetition,
//              with each model's benchmarked latency in the timing model (and slowdowns)
//   report     results.json and results.md
//
// Everything lands in RUNS_DIR/NAME/. Stages reuse their cached result when their inputs are
// unchanged (the users' recordings and models by content); `from` forces a stage and everything
// after it. Before any work the training splits are checked and the run folder must be writable
// (InputError otherwise). Deterministic timing makes the
// closed-loop results reproducible to the byte; wall-clock figures sit under "wall_clock" keys.
//
// On a cluster the study runs as shards (shards.h): `prepare` computes the shared stages
// (record, train, dagger) and returns; `shard` I/N does its share of the rest and writes its
// manifest (RUN/shards/I-of-N.json) instead of results.json; merge_shards (merge.h) writes the
// results.
//
//   StudyResult r = run_study(load_study_config("configs/quick.yaml"), {});
//   std::cout << r.tables;
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "pitlane/study/config.h"
#include "pitlane/study/shards.h"

namespace pitlane::study {

struct StudyOptions {
  std::string from;      // force this stage and the ones after it ("" = reuse what is cached)
  bool quiet = false;    // no progress bars
  ShardSpec shard;       // count > 0: run this shard's share only (shards.h)
  bool prepare = false;  // run only the stages the shards share (record, train, dagger)
};

struct StudyResult {
  std::filesystem::path run_dir;    // RUNS_DIR/NAME
  nlohmann::ordered_json results;   // what results.json holds (a shard: its manifest)
  std::string tables;               // the terminal tables
  std::vector<std::string> reused;  // stages taken from the cache
};

StudyResult run_study(const StudyConfig& config, const StudyOptions& options);

}  // namespace pitlane::study
