// The study's training-time optimization recipes (REFERENCE.md section 5), each a short series of
// fine-tuning phases on a float PilotNet followed by an export to a deployable ONNX model:
//
//   qat         QAT: fake-quantized weights and activations (2 epochs on 1% of the data) -> int8
//               QDQ with the learned activation scales
//   prune       magnitude pruning, PolynomialDecay 0.5 -> 0.8 (2 epochs) -> fp32 with zeros
//   prune+int8  prune, then post-training int8 (calibrated on the fine-tuning data)
//   cluster     8 centroids per output channel, k-means++ (3 epochs) -> fp32, 8 values per channel
//   pqat        prune to 50% (ConstantSparsity, 3 epochs), QAT keeping the zeros (1) -> int8 QDQ
//   cqat        cluster (3 epochs), QAT keeping the clusters (1) -> int8 QDQ
//   pcqat       prune 50% (3), cluster keeping the zeros (3), QAT keeping both (1) -> int8 QDQ
//
// Every phase starts from the previous one's weights (the first from the parent file, which must
// be a pitlane-written float PilotNet) and keeps its promises: zeros stay zero, clusters stay
// clusters, so QAT's int8 weights take at most k values per channel.
//
//   TrainingRecipe r = default_training_recipe("pqat");
//   r.prune.schedule.target = 0.7;
//   FineTuneData d{.data = {"rec/many_curves_cw"}};
//   TrainingRecipeResult out = run_training_recipe("pilotnet.onnx", "pqat.onnx", r, d);
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pitlane/data/model_metadata.h"
#include "pitlane/train/compression.h"
#include "pitlane/train/pilotnet.h"
#include "pitlane/train/train_job.h"

namespace pitlane::train {

struct TrainingRecipe {
  std::string name;
  int prune_epochs = 0;            // 0: no pruning phase
  int cluster_epochs = 0;          // 0: no clustering phase
  int qat_epochs = 0;              // 0: no QAT phase
  double qat_data_fraction = 1.0;  // share of the samples per epoch the QAT phase draws
  bool int8_after = false;         // post-training int8 (static, calibrated) at the end
  PruneOptions prune;
  ClusterOptions cluster;
  QatOptions qat;
  int calib_images = 100;  // int8_after: frames drawn from the fine-tuning recordings
};

// The recipe as the study ran it; InputError naming the recipes for an unknown name.
TrainingRecipe default_training_recipe(const std::string& name);
std::vector<std::string> training_recipe_names();
bool is_training_recipe(const std::string& name);

// What every phase trains on and how.
struct FineTuneData {
  std::vector<std::filesystem::path> data;        // fine-tuning recordings
  std::vector<std::filesystem::path> validation;  // explicit validation recordings, or none
  double validation_fraction = 0.2;
  size_t samples_per_epoch = 0;  // drawn from the oversampled index; 0 = all of it
  int batch_size = 64;
  double learning_rate = 1e-4;
  std::vector<double> output_weights = {1.0, 10.0};  // as the baseline is trained
  uint64_t seed = 42;
  int threads = 2;
  int64_t max_steps = 0;  // per phase (tests); 0 = no limit
  bool progress = true;
};

struct TrainingRecipeResult {
  // {"recipe", "parameters", "parent", "phases": [{"phase", "epochs", "samples_per_epoch", "steps",
  //  "validation_loss"}], "phase_seconds" (wall clock, the only non-deterministic entry),
  //  "layers": [{"layer", "weights", "sparsity", "max_values_per_channel"}], "sparsity",
  //  "activation_params", "size_bytes", "gzip_bytes"}; parameters.learned_ranges maps each
  //  activation tensor to the [min, max] QAT learned.
  nlohmann::json report;
  int64_t size_bytes = 0;
};

// A parent model and its fine-tuning recordings, read and decoded once for any number of
// recipes (the study runs seven on one runner).
class RecipeRunner {
 public:
  // InputError for a model that is not a pitlane-written float PilotNet or missing recordings.
  RecipeRunner(const std::filesystem::path& parent, const FineTuneData& data);

  // Fine-tunes the parent and writes `out` (valid ONNX, atomically, with pitlane.recipe,
  // pitlane.parent and pitlane.optimize in its metadata). InputError for bad parameters;
  // nothing is written then. Deterministic: the same recipe gives the same file.
  TrainingRecipeResult run(const TrainingRecipe& recipe, const std::filesystem::path& out) const;

 private:
  FineTuneData data_;
  data::ModelMetadata meta_;
  PilotNetWeights parent_weights_;
  std::string parent_;  // "file.onnx sha256:HEX"
  std::shared_ptr<const TrainingData> data_set_;
};

// One recipe, one runner.
TrainingRecipeResult run_training_recipe(const std::filesystem::path& in,
                                         const std::filesystem::path& out,
                                         const TrainingRecipe& recipe, const FineTuneData& data);

// One line per layer: sparsity and values per channel, then sizes, for the terminal.
std::string training_recipe_table(const TrainingRecipeResult& r);

}  // namespace pitlane::train
