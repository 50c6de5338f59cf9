#include "pitlane/train/training_recipes.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/gzip.h"
#include "pitlane/core/sha256.h"
#include "pitlane/core/table.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"
#include "pitlane/quant/calibrate.h"
#include "pitlane/quant/recipes.h"
#include "pitlane/train/onnx_reader.h"
#include "pitlane/train/onnx_writer.h"
#include "pitlane/train/train_job.h"
#include "pitlane/train/trainer.h"

namespace fs = std::filesystem;

namespace pitlane::train {
namespace {

using nlohmann::json;

void check_recipe(const TrainingRecipe& r) {
  auto fail = [&](const std::string& what) { throw InputError("recipe " + r.name + ": " + what); };
  for (int e : {r.prune_epochs, r.cluster_epochs, r.qat_epochs})
    if (e < 0 || e > 1000) fail("epochs must be 0 to 1000");
  if (r.prune_epochs + r.cluster_epochs + r.qat_epochs == 0) fail("no phase has any epochs");
  if (!(r.qat_data_fraction > 0.0 && r.qat_data_fraction <= 1.0))
    fail("the QAT data fraction must be in (0, 1]");
  const SparsitySchedule& s = r.prune.schedule;
  if (!(s.target >= 0.0 && s.target <= 0.99) || !(s.initial >= 0.0 && s.initial <= s.target))
    fail("sparsities must satisfy 0 <= initial <= target <= 0.99");
  if (s.frequency < 1) fail("the pruning frequency must be at least 1 step");
  if (!(s.power > 0.0)) fail("the polynomial power must be positive");
  if (r.prune.structure == PruneStructure::block &&
      (r.prune.block_rows < 1 || r.prune.block_cols < 1))
    fail("pruning blocks must be at least 1x1");
  if (r.cluster.clusters < 2 || r.cluster.clusters > 255)
    fail("clusters must be 2 to 255 (int8 holds at most 255 values)");
  if (!(r.qat.ema_decay >= 0.0 && r.qat.ema_decay < 1.0)) fail("the EMA decay must be in [0, 1)");
  if (r.calib_images < 1 || r.calib_images > 100000) fail("calibration images must be 1 to 100000");
}

// The ONNX tensor of each QAT activation point (compression.h's order), in the float graph after
// batch-norm folding.
std::map<std::string, quant::Range> named_ranges(const ::onnx::ModelProto& model,
                                                 const std::vector<ActivationRange>& ranges) {
  std::vector<std::string> names;
  for (const auto& n : model.graph().node())
    if (n.name() == "conv1") names.push_back(n.input(0));
  for (int i = 1; i <= 5; ++i) names.push_back("conv" + std::to_string(i) + ".act");
  for (int i = 1; i <= 4; ++i) names.push_back("dense" + std::to_string(i) + ".act");
  if (names.size() != ranges.size())
    throw RunError("qat export: " + std::to_string(ranges.size()) + " learned ranges for " +
                   std::to_string(names.size()) + " activation points");
  std::map<std::string, quant::Range> out;
  for (size_t i = 0; i < names.size(); ++i) out[names[i]] = {ranges[i].min, ranges[i].max};
  for (const auto& p : quant::activation_points(model, false))
    if (!out.count(p)) throw RunError("qat export: no learned range for tensor '" + p + "'");
  return out;
}

json layer_report(const PilotNetWeights& net, double* total_sparsity) {
  json layers = json::array();
  int64_t zeros = 0, count = 0;
  auto add = [&](const std::string& name, const std::vector<float>& w, int64_t rows) {
    const double sparsity = zero_fraction(w);
    zeros += std::llround(sparsity * static_cast<double>(w.size()));
    count += static_cast<int64_t>(w.size());
    layers.push_back({{"layer", name},
                      {"weights", w.size()},
                      {"sparsity", sparsity},
                      {"max_values_per_channel",
                       max_distinct_per_row({w, rows, static_cast<int64_t>(w.size()) / rows})}});
  };
  for (size_t i = 0; i < net.convs.size(); ++i)
    add("conv" + std::to_string(i + 1), net.convs[i].weight, net.convs[i].out_channels);
  for (size_t i = 0; i < net.dense.size(); ++i)
    add("dense" + std::to_string(i + 1), net.dense[i].weight, net.dense[i].out_features);
  *total_sparsity = count ? static_cast<double>(zeros) / static_cast<double>(count) : 0.0;
  return layers;
}

json schedule_json(const PruneOptions& p) {
  const SparsitySchedule& s = p.schedule;
  std::string structure = "unstructured";
  if (p.structure == PruneStructure::block)
    structure = "block " + std::to_string(p.block_rows) + "x" + std::to_string(p.block_cols);
  if (p.structure == PruneStructure::n_of_m)
    structure = std::to_string(p.n) + ":" + std::to_string(p.m);
  return {{"schedule", s.kind == SparsitySchedule::Kind::constant ? "constant" : "polynomial"},
          {"initial_sparsity", s.initial},
          {"target_sparsity", s.target},
          {"begin_step", s.begin_step},
          {"end_step", s.end_step},
          {"frequency", s.frequency},
          {"power", s.power},
          {"structure", structure},
          {"scope", p.global ? "global" : "per layer"}};
}

const char* init_name(CentroidInit i) {
  switch (i) {
    case CentroidInit::kmeans_plus_plus:
      return "kmeans++";
    case CentroidInit::linear:
      return "linear";
    case CentroidInit::density:
      return "density";
    case CentroidInit::random:
      return "random";
  }
  return "?";
}

// --- Fine-tuning: the recipe as a list of phases, each a training run from the last one's weights.

// One fine-tuning phase: a training run under one set of constraints.
struct Phase {
  std::string name;  // prune | cluster | qat
  int epochs = 0;
  size_t samples_per_epoch = 0;  // drawn from the oversampled index
  CompressionConfig compression;
};

// What the phases leave: the weights and what each phase reported.
struct FineTuned {
  PilotNetWeights net;                   // the last phase's weights
  json phases = json::array();           // per phase: name, epochs, samples, steps, validation
  json phase_seconds = json::array();    // wall clock: kept out of the model file
  std::vector<ActivationRange> learned;  // the QAT phase's activation ranges (compression.h order)
};

// The clustering every phase uses: zeros kept after pruning, the fine-tuning seed.
ClusterOptions cluster_options(const TrainingRecipe& recipe, uint64_t seed) {
  ClusterOptions cluster = recipe.cluster;
  cluster.preserve_sparsity = cluster.preserve_sparsity || recipe.prune_epochs > 0;
  cluster.seed = seed;
  return cluster;
}

// Prune, cluster, QAT, each where the recipe gives it epochs; every phase keeps the promises of
// the phases before it (zeros stay zero, clusters stay clusters).
std::vector<Phase> recipe_phases(const TrainingRecipe& recipe, size_t per_epoch, uint64_t seed) {
  const bool pruned = recipe.prune_epochs > 0, clustered = recipe.cluster_epochs > 0;
  const ClusterOptions cluster = cluster_options(recipe, seed);
  std::vector<Phase> phases;
  if (pruned) {
    CompressionConfig c;
    c.prune = recipe.prune;
    phases.push_back({"prune", recipe.prune_epochs, per_epoch, c});
  }
  if (clustered) {
    CompressionConfig c;
    c.cluster = cluster;
    c.keep_zeros = pruned;
    phases.push_back({"cluster", recipe.cluster_epochs, per_epoch, c});
  }
  if (recipe.qat_epochs > 0) {
    CompressionConfig c;
    c.qat = recipe.qat;
    c.keep_zeros = pruned;
    if (clustered) {
      c.cluster = cluster;
      c.cluster_existing = true;
    }
    const auto samples =
        std::max<size_t>(1, static_cast<size_t>(std::llround(recipe.qat_data_fraction *
                                                             static_cast<double>(per_epoch))));
    phases.push_back({"qat", recipe.qat_epochs, samples, c});
  }
  return phases;
}

// The training every phase shares; each phase sets its epochs, samples and constraints.
TrainConfig fine_tune_config(const FineTuneData& data, Arch arch) {
  TrainConfig cfg;
  cfg.arch = arch;
  cfg.batch_size = data.batch_size;
  cfg.learning_rate = data.learning_rate;
  cfg.seed = data.seed;
  cfg.output_weights = data.output_weights;
  cfg.compute_threads = data.threads;
  cfg.max_steps = data.max_steps;
  cfg.measure_loader_images = 0;
  cfg.progress = data.progress;
  return cfg;
}

// Trains `phase` from tuned.net and records what it did in `tuned`.
void run_phase(const Phase& phase, TrainConfig cfg, const TrainingData& d,
               const data::ModelMetadata& meta, FineTuned& tuned) {
  const auto t0 = std::chrono::steady_clock::now();
  cfg.epochs = phase.epochs;
  cfg.samples_per_epoch = phase.samples_per_epoch;
  cfg.initial_weights = tuned.net;
  cfg.compression = phase.compression;
  TrainResult r =
      train_pilotnet(d.recs, d.train_ids, d.validation_ids, meta.preprocess, meta.outputs, cfg);
  tuned.net = std::move(r.best);
  if (phase.compression.qat) tuned.learned = std::move(r.activation_ranges);
  const double val =
      r.state.history.empty() ? std::nan("") : r.state.history.back().validation_loss;
  tuned.phases.push_back({{"phase", phase.name},
                          {"epochs", r.state.epochs_done},
                          {"samples_per_epoch", phase.samples_per_epoch},
                          {"steps", r.state.steps},
                          {"validation_loss", std::isfinite(val) ? json(val) : json(nullptr)}});
  tuned.phase_seconds.push_back(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// The parameters pitlane.optimize records for the fine-tuning (quantization adds its own).
json recipe_parameters(const TrainingRecipe& recipe, const FineTuneData& data, const json& phases) {
  json params = {{"recipe", recipe.name},
                 {"phases", phases},
                 {"fine_tuning",
                  {{"batch_size", data.batch_size},
                   {"learning_rate", data.learning_rate},
                   {"output_weights", data.output_weights},
                   {"seed", data.seed}}}};
  if (recipe.prune_epochs > 0) params["pruning"] = schedule_json(recipe.prune);
  if (recipe.cluster_epochs > 0) {
    const ClusterOptions cluster = cluster_options(recipe, data.seed);
    params["clustering"] = {{"clusters", cluster.clusters},
                            {"per_channel", cluster.per_channel},
                            {"init", init_name(cluster.init)},
                            {"preserve_sparsity", cluster.preserve_sparsity}};
  }
  return params;
}

// int8 QDQ of the fine-tuned float graph, batch norms folded: activations at QAT's learned ranges
// or, without QAT, at ranges calibrated on the fine-tuning recordings. Records both in `params`.
void quantize_fine_tuned(::onnx::ModelProto& model, const TrainingRecipe& recipe,
                         const std::vector<ActivationRange>& learned, const FineTuneData& data,
                         const data::PreprocessSpec& preprocess, json& params) {
  quant::fold_batchnorm_into_conv(model);
  std::map<std::string, quant::Range> ranges;
  if (!learned.empty()) {
    ranges = named_ranges(model, learned);
    json by_tensor = json::object();
    for (const auto& [name, r] : ranges) by_tensor[name] = {r.min, r.max};
    params["learned_ranges"] = by_tensor;
    params["qat"] = {{"ema_decay", recipe.qat.ema_decay},
                     {"data_fraction", recipe.qat_data_fraction}};
  } else {
    const auto images =
        quant::calibration_images(data.data, preprocess, recipe.calib_images, data.seed);
    ranges = quant::calibrate(model, quant::activation_points(model, false), images,
                              quant::CalibrationMethod::minmax);
    params["calibration"] = {{"images", images.size()}, {"method", "minmax"}};
  }
  const quant::StaticQuantization q = quant::quantize_static(model, ranges, {});
  params["weights"] = "int8 symmetric per output channel";
  params["activations"] = learned.empty() ? "uint8 per tensor (static, calibrated)"
                                          : "uint8 per tensor (ranges learned in QAT)";
  params["format"] = "QDQ";
  json act = json::object();
  for (const auto& [name, a] : q.params)
    act[name] = {{"scale", a.scale}, {"zero_point", a.zero_point}};
  params["activation_params"] = act;
}

// The report of a written model: phases, per-layer sparsity and values, sizes.
TrainingRecipeResult recipe_result(const ::onnx::ModelProto& model, const TrainingRecipe& recipe,
                                   const std::string& parent, const json& params,
                                   const FineTuned& tuned) {
  TrainingRecipeResult result;
  std::string bytes;
  model.SerializeToString(&bytes);
  result.size_bytes = static_cast<int64_t>(bytes.size());
  double sparsity = 0.0;
  json layers = layer_report(tuned.net, &sparsity);
  result.report = {{"recipe", recipe.name},
                   {"parent", parent},
                   {"parameters", params},
                   {"phases", tuned.phases},
                   {"phase_seconds", tuned.phase_seconds},
                   {"layers", layers},
                   {"sparsity", sparsity},
                   {"size_bytes", result.size_bytes},
                   {"gzip_bytes", gzip_size(bytes)}};
  if (params.contains("activation_params"))
    result.report["activation_params"] = params["activation_params"];
  return result;
}

}  // namespace

std::vector<std::string> training_recipe_names() {
  return {"qat", "prune", "prune+int8", "cluster", "pqat", "cqat", "pcqat"};
}

bool is_training_recipe(const std::string& name) {
  const auto names = training_recipe_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

TrainingRecipe default_training_recipe(const std::string& name) {
  if (!is_training_recipe(name)) {
    std::string list;
    for (const auto& n : training_recipe_names()) list += (list.empty() ? "" : ", ") + n;
    throw InputError("training recipe '" + name + "' is unknown; use one of: " + list);
  }
  TrainingRecipe r;
  r.name = name;
  SparsitySchedule& s = r.prune.schedule;
  if (name == "qat") {
    r.qat_epochs = 2;
    r.qat_data_fraction = 0.01;
  } else if (name == "prune" || name == "prune+int8") {
    r.prune_epochs = 2;
    s.kind = SparsitySchedule::Kind::polynomial;
    s.initial = 0.5;
    s.target = 0.8;
    r.int8_after = name == "prune+int8";
  } else if (name == "cluster") {
    r.cluster_epochs = 3;
  } else {  // pqat, cqat, pcqat
    if (name != "cqat") {
      r.prune_epochs = 3;
      s.kind = SparsitySchedule::Kind::constant;
      s.initial = 0.5;
      s.target = 0.5;
    }
    if (name != "pqat") r.cluster_epochs = 3;
    r.qat_epochs = 1;
  }
  return r;
}

RecipeRunner::RecipeRunner(const fs::path& parent, const FineTuneData& data) : data_(data) {
  if (data.data.empty())
    throw InputError("the training-time recipes fine-tune on recordings; pass --data DIR");
  if (data.batch_size < 1 || !(data.learning_rate > 0.0))
    throw InputError("fine-tuning: batch size and learning rate must be positive");
  parent_weights_ = read_pilotnet_onnx(parent, &meta_);
  if (meta_.recipe != "baseline" && !meta_.recipe.empty())
    throw InputError(parent.string() + ": already optimized (recipe " + meta_.recipe +
                     "); start from the float parent");
  parent_ = parent.filename().string() + " sha256:" + sha256_file(parent);
  data_set_ = std::make_shared<TrainingData>(
      load_training_data(data.data, data.validation, meta_.preprocess, data.validation_fraction,
                         data.seed, data.threads, data.progress));
}

TrainingRecipeResult run_training_recipe(const fs::path& in, const fs::path& out,
                                         const TrainingRecipe& recipe, const FineTuneData& data) {
  check_recipe(recipe);
  return RecipeRunner(in, data).run(recipe, out);
}

TrainingRecipeResult RecipeRunner::run(const TrainingRecipe& recipe, const fs::path& out) const {
  check_recipe(recipe);
  check_writable(out);
  const TrainingData& d = *data_set_;
  const TrainConfig cfg = fine_tune_config(data_, parent_weights_.arch);
  const size_t index_size = data::build_index(d.recs, d.train_ids, cfg.oversample).size();
  const size_t per_epoch = data_.samples_per_epoch ? data_.samples_per_epoch : index_size;
  const std::vector<Phase> phases = recipe_phases(recipe, per_epoch, data_.seed);

  FineTuned tuned;
  tuned.net = parent_weights_;
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& phase = phases[i];
    if (data_.progress)
      std::cerr << recipe.name << ": phase " << i + 1 << "/" << phases.size() << " " << phase.name
                << ", " << phase.epochs << " epoch(s) of " << phase.samples_per_epoch
                << " samples\n";
    run_phase(phase, cfg, d, meta_, tuned);
  }

  // Export: the fine-tuned float network, then int8 QDQ with QAT's learned activation ranges
  // (or calibrated ones after pruning).
  data::ModelMetadata meta = meta_;
  meta.recipe = recipe.name;
  meta.parent = parent_;
  ::onnx::ModelProto model;
  if (!model.ParseFromString(pilotnet_onnx_bytes(tuned.net, meta)))
    throw RunError("onnx: re-reading the fine-tuned model failed");
  json params = recipe_parameters(recipe, data_, tuned.phases);
  if (!tuned.learned.empty() || recipe.int8_after)
    quantize_fine_tuned(model, recipe, tuned.learned, data_, meta.preprocess, params);
  onnx::set_metadata(model, "pitlane.optimize", params.dump());
  model.set_producer_name("pitlane optimize");
  onnx::write_model(model, out);
  return recipe_result(model, recipe, parent_, params, tuned);
}

std::string training_recipe_table(const TrainingRecipeResult& r) {
  Table t({"layer", "weights", "sparsity", "values/channel"});
  for (const auto& l : r.report["layers"]) {
    t.add({l["layer"].get<std::string>(), std::to_string(l["weights"].get<int64_t>()),
           format_fixed(100.0 * l["sparsity"].get<double>(), 1) + "%",
           std::to_string(l["max_values_per_channel"].get<int>())});
  }
  std::string text = t.render();
  const auto& seconds = r.report["phase_seconds"];
  for (size_t i = 0; i < r.report["phases"].size(); ++i) {
    const auto& p = r.report["phases"][i];
    text += "phase " + p["phase"].get<std::string>() + ": " +
            std::to_string(p["epochs"].get<int>()) + " epoch(s), " +
            std::to_string(p["steps"].get<int64_t>()) + " steps, validation loss " +
            (p["validation_loss"].is_null() ? std::string("-")
                                            : format_fixed(p["validation_loss"].get<double>(), 5)) +
            ", " + format_fixed(seconds[i].get<double>(), 1) + " s\n";
  }
  text += "sparsity " + format_fixed(100.0 * r.report["sparsity"].get<double>(), 1) + "%, " +
          std::to_string(r.report["size_bytes"].get<int64_t>()) + " bytes, " +
          std::to_string(r.report["gzip_bytes"].get<int64_t>()) + " gzipped\n";
  return text;
}

}  // namespace pitlane::train
