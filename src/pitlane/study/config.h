// A study's configuration: what `pitlane study CONFIG.yaml` records, trains, optimizes,
// evaluates and drives. Loaded from YAML strictly: every key is known (a typo is an error
// naming the file, line and key, with the keys that are allowed), no key appears twice in a
// mapping, every value is checked, and everything the config names from outside (the users' own
// models and recordings, circuit CSV files) is opened and checked before any work, so that a
// config that loads also runs. configs/default.yaml documents each key.
//
// Paths in the config (runs_dir, circuit CSV files, models[].file, record.recordings,
// evaluate.recordings) are relative to the working directory.
//
//   StudyConfig config = load_study_config("configs/quick.yaml");
//   nlohmann::ordered_json j = to_json(config.train);   // what the train stage's cache key hashes
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pitlane/quant/optimize.h"
#include "pitlane/train/training_recipes.h"

namespace pitlane::study {

// The expert records training data on the training circuits.
struct RecordSection {
  std::vector<std::string> circuits = {"many_curves", "nurburgring"};
  std::vector<std::string> directions = {"cw", "ccw"};
  int frames = 2000;            // per circuit and direction, from the circuit's start (>= 1)
  int perturbed_frames = 2000;  // per circuit and direction, off-centre starts and recoveries
  // The users' own training recordings, trained on beside the expert's: each a recording folder
  // (N.png and data.csv) or a folder of them, as `pitlane record --out` writes. May stand alone
  // (circuits: []) when dagger.rounds is 0.
  std::vector<std::string> recordings;
};

// PilotNet training on the recordings (and, after DAgger rounds, on their data too).
struct TrainSection {
  std::string arch = "pilotnet";  // pilotnet (valid padding) or pilotnet-same
  int epochs = 5;
  int samples_per_epoch = 16000;  // drawn from the curve-oversampled index
  int batch_size = 64;
  double learning_rate = 1e-3;
  double validation_fraction = 0.125;  // whole recordings held out
  int early_stop_patience = 2;
  std::vector<double> output_weights = {1.0, 10.0};  // loss weight of (v, w)
};

// DAgger rounds: the model drives, the expert labels, the model is fine-tuned on all data.
struct DaggerSection {
  int rounds = 1;
  int frames = 1500;          // per circuit and direction and round
  double expert_share = 0.2;  // probability that an iteration executes the expert's command
  int epochs = 2;
  int samples_per_epoch = 16000;
  double learning_rate = 3e-4;
};

// Fine-tuning of the training-time recipes (qat, prune, cluster, ...): each recipe's phases keep
// the study's epoch counts (training_recipes.h); these set what an epoch is and how it steps.
struct FinetuneSection {
  int samples_per_epoch = 4000;  // drawn from the oversampled training index
  int batch_size = 64;
  double learning_rate = 1e-4;
};

// One model the optimize stage makes: a recipe under a name, with some of the recipe's
// parameters overridden (unset ones keep the recipe's study defaults and the section's
// calibration settings). A plain recipe name in optimize.recipes is a variant named after its
// recipe with no overrides; two variants of one recipe coexist under different names.
struct RecipeVariant {
  std::string name;    // the model's name in the results; its files are models/NAME.onnx
  std::string recipe;  // float16, bf16, dynamic-int8, int8, int8-only, qat, prune, ..., pcqat
  std::optional<double> sparsity;           // recipes that prune: the target sparsity
  std::optional<double> initial_sparsity;   // prune, prune+int8: where the polynomial decay starts
  std::optional<int> clusters;              // recipes that cluster: centroids per output channel
  std::optional<std::string> calib_method;  // int8, int8-only
  std::optional<int> calib_images;          // int8, int8-only, prune+int8
  std::optional<int> prune_epochs, cluster_epochs, qat_epochs;  // the phases the recipe has
  std::optional<double> qat_data_fraction;  // recipes with QAT: share of each epoch's samples

  bool overrides_anything() const;
};

// Recipes applied to the baseline (pitlane optimize): post-training ones and training-time ones.
struct OptimizeSection {
  std::vector<RecipeVariant> recipes;  // e.g. float16, int8, qat, {recipe: prune, name: p90, ...}
  std::string calib_method = "minmax";
  int calib_images = 100;
  FinetuneSection finetune;
};

// Offline evaluation on recordings of the test circuits (never seen in training).
struct EvaluateSection {
  std::vector<std::string> circuits = {"simple_circuit", "montmelo", "montreal"};
  std::vector<std::string> directions = {"cw", "ccw"};
  int frames = 1000;  // per circuit and direction, perturbed starts
  // The users' own test recordings, evaluated beside the expert's (folders as in
  // record.recordings). May stand alone (circuits: []).
  std::vector<std::string> recordings;
};

// Latency of each model on pitlane's runtime, batch 1.
struct BenchmarkSection {
  int runs = 200;
  int warmup = 20;
  int threads = 1;
  // The median is rounded up to a multiple of this before it drives the timing model, so that
  // a rerun's jitter does not change the closed-loop results.
  double latency_quantum_ms = 0.5;
};

// Closed-loop runs: every model (and the expert) on every test circuit and direction.
struct DriveSection {
  std::vector<std::string> circuits = {"simple_circuit", "montmelo", "montreal"};
  std::vector<std::string> directions = {"cw", "ccw"};
  // Episodes per model, circuit, direction and device; every model drives the same seeds, so
  // comparisons are paired. Repetition 0 is the nominal run (the circuit's start, the plain
  // look); later ones draw the perturbations below from their seed.
  int repetitions = 1;
  // What a repetition after the first perturbs: "start" (off-centre, mis-headed start anywhere
  // on the circuit), "style" (lighting, colour, camera noise, sometimes fog: the renderer's
  // style), "weather" (overcast or dusk light and haze).
  std::vector<std::string> perturb = {"start", "style"};
  bool trajectories = true;  // write each drive's trajectory (gzip CSV) under drives/
  int laps = 1;
  double timeout_s = 0.0;  // 0: laps x reference lap time x 1.1
  // "benchmark": each model's benchmarked median as a fixed latency (deterministic);
  // "fixed:MS" for every model; "measured" (wall clock, not reproducible).
  std::string timing = "benchmark";
  std::vector<double> slowdowns = {1.0, 30.0};              // emulated devices: latency x factor
  std::vector<std::string> slowdown_models = {"baseline"};  // models driven with every slowdown
  bool expert = true;                                       // the expert as the reference row
  int jobs = 2;                                             // drives run in parallel
};

// A user's own ONNX model, evaluated, benchmarked and driven like the study's models. Models
// without pitlane metadata take the study's defaults (preprocessing, output ranges).
struct UserModel {
  std::string name;  // in the results; copied to runs/NAME/models/NAME.onnx
  std::string file;  // as written in the config
};

struct StudyConfig {
  std::filesystem::path source;  // the YAML file
  std::string name = "default";  // results go to runs_dir/name
  std::filesystem::path runs_dir = "runs";
  uint64_t seed = 42;
  int threads = 2;  // training and offline evaluation
  RecordSection record;
  TrainSection train;
  DaggerSection dagger;
  OptimizeSection optimize;
  EvaluateSection evaluate;
  BenchmarkSection benchmark;
  DriveSection drive;
  std::vector<UserModel> models;  // the users' own models, after the optimized ones
};

// A study's name becomes a folder: letters, digits, '_', '-' and '.', not starting with '.'.
// InputError starting with `context` otherwise.
void check_study_name(const std::string& name, const std::string& context);

// InputError "FILE:LINE:COL: ..." for unknown keys, wrong types and out-of-range values.
StudyConfig load_study_config(const std::filesystem::path& path);
StudyConfig parse_study_config(const std::string& yaml_text, const std::filesystem::path& source);

// What a variant of a training-time recipe runs: the recipe's study defaults with the variant's
// overrides and the section's calibration images.
train::TrainingRecipe training_recipe(const RecipeVariant& v, const OptimizeSection& o);
// What a variant of a post-training recipe runs (without the calibration folders and seed).
quant::OptimizeOptions post_training_options(const RecipeVariant& v, const OptimizeSection& o);

// The recording folders `dirs` name (folders of recordings expanded, data::find_recordings).
std::vector<std::filesystem::path> expand_recordings(const std::vector<std::string>& dirs);

nlohmann::ordered_json to_json(const RecipeVariant& v);  // the plain name if nothing is overridden
nlohmann::ordered_json to_json(const UserModel& m);
nlohmann::ordered_json to_json(const RecordSection& s);
nlohmann::ordered_json to_json(const TrainSection& s);
nlohmann::ordered_json to_json(const DaggerSection& s);
nlohmann::ordered_json to_json(const OptimizeSection& s);
nlohmann::ordered_json to_json(const EvaluateSection& s);
nlohmann::ordered_json to_json(const BenchmarkSection& s);
nlohmann::ordered_json to_json(const DriveSection& s);
nlohmann::ordered_json to_json(const StudyConfig& c);

}  // namespace pitlane::study
