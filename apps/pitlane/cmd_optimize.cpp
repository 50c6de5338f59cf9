// pitlane optimize: post-training recipes (float16, bf16, dynamic-int8, int8, int8-only) with a
// float-vs-optimized report, the auto recipe (mixed precision chosen by the driving score), and
// the training-time recipes (qat, prune, prune+int8, cluster, pqat, cqat, pcqat) that fine-tune
// the model on recordings.
#include <iostream>
#include <opencv2/core.hpp>

#include "commands.h"
#include "options.h"
#include "pitlane/autotune/autotune.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/quant/optimize.h"
#include "pitlane/quant/report.h"
#include "pitlane/train/training_recipes.h"

namespace fs = std::filesystem;

namespace pitlane::cli {
namespace {

// Fine-tuning parameters as given on the command line; only the ones given override the
// recipe's study defaults.
struct TrainingFlags {
  std::vector<std::string> data, validation;
  train::FineTuneData tune;
  int prune_epochs = 0, cluster_epochs = 0, qat_epochs = 0;
  std::string schedule = "polynomial", structure = "unstructured", block = "1x4";
  std::string cluster_init = "kmeans++";
  train::TrainingRecipe values;  // holder for the numeric overrides
  bool per_layer = false, preserve_sparsity = false;
  std::string scope = "global";
  std::map<std::string, CLI::Option*> given;
  bool set(const std::string& flag) const {
    auto it = given.find(flag);
    return it != given.end() && it->second->count() > 0;
  }
};

void add_training_options(CLI::App* cmd, TrainingFlags& f) {
  auto opt = [&](const std::string& flag, auto& value, const std::string& help) {
    f.given[flag] = cmd->add_option(flag, value, help)->group("Training-time recipes");
    return f.given[flag];
  };
  auto flag = [&](const std::string& name, bool& value, const std::string& help) {
    f.given[name] = cmd->add_flag(name, value, help)->group("Training-time recipes");
  };
  opt("--data", f.data, "Recordings to fine-tune on (and calibrate prune+int8 with)");
  opt("--validation", f.validation, "Validation recordings (default: a held-out share of --data)");
  opt("--samples-per-epoch", f.tune.samples_per_epoch, "Samples per epoch (0: all)")
      ->capture_default_str()
      ->check(whole_in(0, 1'000'000'000));
  opt("--batch-size", f.tune.batch_size, "")->capture_default_str()->check(whole_in(1, 65536));
  opt("--learning-rate", f.tune.learning_rate, "Adam step size")
      ->capture_default_str()
      ->check(finite_in(1e-9, 10.0));
  opt("--output-weights", f.tune.output_weights, "Loss weight of v and w")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str()
      ->check(finite_in(0.0, 1e6));
  opt("--threads", f.tune.threads, "libtorch threads")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads));
  opt("--max-steps", f.tune.max_steps, "Stop each phase after this many steps (0: no limit)")
      ->check(whole_in(0, 1'000'000'000));
  opt("--prune-epochs", f.prune_epochs, "Pruning phase length (recipe default if not given)")
      ->check(whole_in(0, 100'000));
  opt("--cluster-epochs", f.cluster_epochs, "Clustering phase length")->check(whole_in(0, 100'000));
  opt("--qat-epochs", f.qat_epochs, "QAT phase length")->check(whole_in(0, 100'000));
  opt("--qat-data-fraction", f.values.qat_data_fraction, "Share of each epoch's samples QAT uses")
      ->check(finite_in(0.0, 1.0));
  opt("--ema-decay", f.values.qat.ema_decay, "QAT activation-range moving average decay")
      ->check(finite_in(0.0, 1.0));
  opt("--schedule", f.schedule, "Sparsity schedule: constant | polynomial");
  opt("--initial-sparsity", f.values.prune.schedule.initial, "Polynomial schedule start")
      ->check(finite_in(0.0, 0.999));
  opt("--sparsity", f.values.prune.schedule.target, "Target sparsity")
      ->check(finite_in(0.0, 0.999));
  opt("--begin-step", f.values.prune.schedule.begin_step, "First pruning step")
      ->check(whole_in(0, 1'000'000'000));
  opt("--end-step", f.values.prune.schedule.end_step,
      "Step the target is reached (-1: 3/4 into the phase)")
      ->check(whole_in(-1, 1'000'000'000));
  opt("--frequency", f.values.prune.schedule.frequency, "Steps between mask updates")
      ->check(whole_in(1, 1'000'000'000));
  opt("--power", f.values.prune.schedule.power, "Polynomial decay exponent")
      ->check(finite_in(0.0, 100.0));
  opt("--structure", f.structure, "unstructured | block | N:M (e.g. 2:4)");
  opt("--block", f.block, "Block size RxC for --structure block");
  opt("--scope", f.scope, "Pruning threshold: global (over all layers) | layer (each layer)");
  opt("--clusters", f.values.cluster.clusters, "Centroids per channel (or per layer)")
      ->check(whole_in(1, 256));
  opt("--cluster-init", f.cluster_init, "kmeans++ | linear | density | random");
  flag("--per-layer", f.per_layer, "Centroids per layer instead of per output channel");
  flag("--preserve-sparsity", f.preserve_sparsity, "Zeros stay zero while clustering");
}

// The recipe's study defaults with the given flags applied.
train::TrainingRecipe training_recipe(const std::string& name, const TrainingFlags& f) {
  train::TrainingRecipe r = train::default_training_recipe(name);
  if (f.set("--prune-epochs")) r.prune_epochs = f.prune_epochs;
  if (f.set("--cluster-epochs")) r.cluster_epochs = f.cluster_epochs;
  if (f.set("--qat-epochs")) r.qat_epochs = f.qat_epochs;
  if (f.set("--qat-data-fraction")) r.qat_data_fraction = f.values.qat_data_fraction;
  if (f.set("--ema-decay")) r.qat.ema_decay = f.values.qat.ema_decay;
  train::SparsitySchedule& s = r.prune.schedule;
  const train::SparsitySchedule& given = f.values.prune.schedule;
  if (f.set("--schedule")) {
    if (f.schedule != "constant" && f.schedule != "polynomial")
      throw InputError("--schedule '" + f.schedule + "' is unknown; use constant or polynomial");
    s.kind = f.schedule == "constant" ? train::SparsitySchedule::Kind::constant
                                      : train::SparsitySchedule::Kind::polynomial;
  }
  if (f.set("--sparsity")) {
    s.target = given.target;
    if (s.initial > s.target) s.initial = s.target;
  }
  if (f.set("--initial-sparsity")) s.initial = given.initial;
  if (s.kind == train::SparsitySchedule::Kind::constant) s.initial = s.target;
  if (f.set("--begin-step")) s.begin_step = given.begin_step;
  if (f.set("--end-step")) s.end_step = given.end_step;
  if (f.set("--frequency")) s.frequency = given.frequency;
  if (f.set("--power")) s.power = given.power;
  r.prune.structure = train::parse_prune_structure(f.structure, &r.prune.n, &r.prune.m);
  if (r.prune.structure == train::PruneStructure::block) {
    const auto x = f.block.find('x');
    try {
      if (x == std::string::npos) throw std::invalid_argument("no x");
      r.prune.block_rows = std::stoi(f.block.substr(0, x));
      r.prune.block_cols = std::stoi(f.block.substr(x + 1));
    } catch (const std::exception&) {
      throw InputError("--block '" + f.block + "' is not RxC; use e.g. 1x4");
    }
  }
  if (f.scope != "global" && f.scope != "layer")
    throw InputError("--scope '" + f.scope + "' is unknown; use global or layer");
  r.prune.global = f.scope == "global";
  if (f.set("--clusters")) r.cluster.clusters = f.values.cluster.clusters;
  r.cluster.init = train::parse_centroid_init(f.cluster_init);
  r.cluster.per_channel = !f.per_layer;
  r.cluster.preserve_sparsity = f.preserve_sparsity;
  return r;
}

// The auto recipe's flags (docs/quantization.md "The auto recipe").
struct AutoFlags {
  autotune::AutotuneOptions options;
  std::string timing = "fixed:5", backend = "onednn", log;
  int threads = 1;
};

void add_auto_options(CLI::App* cmd, AutoFlags& f) {
  autotune::AutotuneOptions& o = f.options;
  const char* group = "Auto recipe (mixed precision by the driving score)";
  cmd->add_option("--circuits", o.circuits, "Circuits of the drive set (default: the study's)")
      ->delimiter(',')
      ->group(group);
  cmd->add_option("--directions", o.directions, "cw, ccw or both")
      ->delimiter(',')
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--repetitions", o.repetitions,
                  "Paired episodes per circuit and direction (0 nominal, later ones perturbed)")
      ->capture_default_str()
      ->check(whole_in(1, 1000))
      ->group(group);
  cmd->add_option("--laps", o.laps, "Laps per episode")
      ->capture_default_str()
      ->check(whole_in(1, 100))
      ->group(group);
  cmd->add_option("--timeout", o.timeout_s, "Seconds per episode (0: the circuit's default)")
      ->check(finite_in(0, 1e6))
      ->group(group);
  cmd->add_option("--sensitivity-episodes", o.sensitivity_episodes,
                  "Episodes each layer alone in int8 drives (-1: one per circuit, nominal)")
      ->capture_default_str()
      ->check(whole_in(-1, 100000))
      ->group(group);
  cmd->add_option("--budget-laps", o.budget_laps, "Laps every drive of the search may use")
      ->capture_default_str()
      ->check(whole_in(1, 1'000'000))
      ->group(group);
  cmd->add_option("--confidence", o.confidence, "Of the one-sided 'worse than fp32' test")
      ->capture_default_str()
      ->check(finite_in(0.5, 0.9999))
      ->group(group);
  cmd->add_option("--margin", o.margin, "Driving-score points a candidate may lose")
      ->capture_default_str()
      ->check(finite_in(0, 100))
      ->group(group);
  cmd->add_option("--min-speedup", o.min_speedup,
                  "fp32 latency / candidate latency needed to keep a quantized candidate")
      ->capture_default_str()
      ->check(finite_in(1, 1000))
      ->group(group);
  cmd->add_option("--timing", f.timing, "Every candidate's latency in the simulator (fixed:MS)")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--backend", f.backend, "Target backend: onednn | reference | auto")
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--runtime-threads", f.threads, "Target's inference threads")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads))
      ->group(group);
  cmd->add_option("--bench-runs", o.bench_runs, "Timed runs per latency round")
      ->capture_default_str()
      ->check(whole_in(1, 1'000'000))
      ->group(group);
  cmd->add_option("--jobs", o.jobs, "Drives in parallel (results do not depend on it)")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads))
      ->group(group);
  cmd->add_option("--log", f.log, "Decision log JSON (default: OUT without .onnx + .auto.json)")
      ->group(group);
}

// Runs the auto recipe and writes the model, the decision log (JSON and Markdown) and the report.
void run_auto(const std::string& model, const std::string& out, const std::string& report,
              const std::vector<std::string>& calib, quant::OptimizeOptions quant, AutoFlags& f) {
  autotune::AutotuneOptions o = f.options;
  quant.calib.assign(calib.begin(), calib.end());
  o.quant = quant;
  o.timing = sim::TimingModel::parse(f.timing);
  o.backend = runtime::parse_backend(f.backend);
  o.threads = f.threads;
  fs::path log = f.log;
  if (log.empty()) log = fs::path(out).replace_extension().string() + ".auto.json";
  fs::path md = fs::path(log).replace_extension(".md");
  std::vector<fs::path> inputs = {model, out};
  inputs.insert(inputs.end(), calib.begin(), calib.end());
  for (const auto& p : {log, md}) {
    check_writable(p);
    check_not_an_input(p, inputs);
  }
  const autotune::AutotuneResult r = autotune::autotune_model(model, out, o);
  std::cout << autotune::decision_table(r.log) << "\n" << quant::report_table(r.report);
  write_file_atomic(log, r.log.dump(2) + "\n");
  write_file_atomic(md,
                    autotune::decision_table(r.log, true) + "\n" + quant::report_table(r.report));
  if (!report.empty()) write_file_atomic(report, r.report.dump(2) + "\n");
  std::cout << "wrote " << out << " (" << r.size_bytes << " bytes), " << log.string() << ", "
            << md.string() << "\n";
}

}  // namespace

void add_optimize_command(CLI::App& app) {
  struct Args {
    std::string model, out, report;
    std::vector<std::string> calib, report_data;
    quant::OptimizeOptions options;
    TrainingFlags training;
    AutoFlags autotune;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "optimize",
      "Optimize an ONNX model. After training: float16, bf16, dynamic-int8, int8 (static QDQ, "
      "calibrated on recordings) or int8-only (uint8 pixels in, int8 out), with SQNR and cosine "
      "similarity per layer against the float model (accumulated and each layer's own); auto: "
      "the fastest mix of int8 and fp32 layers that drives as well as fp32 (paired seeded "
      "episodes, one-sided test), with a decision log. By fine-tuning a pitlane-written model on "
      "recordings: qat, prune, prune+int8, cluster, pqat, cqat, pcqat (the study's defaults, "
      "every parameter settable)\n\nExamples:\n"
      "  pitlane optimize --model pilotnet.onnx --recipe float16 --out pilotnet_fp16.onnx\n"
      "  pitlane optimize --model pilotnet.onnx --recipe int8 --out pilotnet_int8.onnx \\\n"
      "      --calib rec/many_curves_cw --calib-method entropy --report int8.json\n"
      "  pitlane optimize --model pilotnet.onnx --recipe auto --out pilotnet_auto.onnx \\\n"
      "      --calib rec/many_curves_cw --circuits simple_circuit,montmelo --budget-laps 120\n"
      "  pitlane optimize --model pilotnet.onnx --recipe prune --out pruned.onnx \\\n"
      "      --data rec/many_curves_cw rec/nurburgring_cw --sparsity 0.9 --structure 2:4\n"
      "  pitlane optimize --model pilotnet.onnx --recipe pcqat --out pcqat.onnx \\\n"
      "      --data rec/many_curves_cw --clusters 16 --samples-per-epoch 4000");
  cmd->add_option("--model", a->model, "Float ONNX model")->required();
  cmd->add_option("--recipe", a->options.recipe,
                  "float16 | bf16 | dynamic-int8 | int8 | int8-only | auto | qat | prune | "
                  "prune+int8 | cluster | pqat | cqat | pcqat")
      ->required();
  cmd->add_option("--out", a->out, "Optimized ONNX model to write")->required();
  cmd->add_option("--calib", a->calib,
                  "Recording folders for calibration (int8, int8-only, auto) and the report");
  cmd->add_option("--calib-method", a->options.calib_method, "minmax | percentile | entropy | mse")
      ->capture_default_str();
  cmd->add_option("--calib-images", a->options.calib_images, "Frames drawn for calibration")
      ->capture_default_str()
      ->check(whole_in(1, 100'000));
  cmd->add_option("--seed", a->options.seed, "Which frames are drawn; fine-tuning's seed")
      ->capture_default_str();
  cmd->add_option("--report", a->report,
                  "Report JSON file: every layer's quantized result against the float one");
  cmd->add_option("--report-data", a->report_data,
                  "Recordings the report compares on (held-out frames; default: the calibration "
                  "frames)");
  add_training_options(cmd, a->training);
  add_auto_options(cmd, a->autotune);
  cmd->callback([a] {
    std::vector<fs::path> inputs = {a->model};
    for (const auto* list :
         {&a->calib, &a->report_data, &a->training.data, &a->training.validation})
      inputs.insert(inputs.end(), list->begin(), list->end());
    check_not_an_input(a->out, inputs);
    if (!a->report.empty()) {
      check_writable(a->report);
      inputs.push_back(a->out);
      check_not_an_input(a->report, inputs);
    }
    cv::setNumThreads(1);
    a->options.report_data.assign(a->report_data.begin(), a->report_data.end());
    if (a->options.recipe == "auto") {
      run_auto(a->model, a->out, a->report, a->calib, a->options, a->autotune);
      return;
    }
    if (train::is_training_recipe(a->options.recipe)) {
      TrainingFlags& f = a->training;
      train::TrainingRecipe recipe = training_recipe(a->options.recipe, f);
      recipe.calib_images = a->options.calib_images;
      train::FineTuneData tune = f.tune;
      tune.data.assign(f.data.begin(), f.data.end());
      tune.validation.assign(f.validation.begin(), f.validation.end());
      tune.seed = a->options.seed;
      const train::TrainingRecipeResult r =
          train::run_training_recipe(a->model, a->out, recipe, tune);
      if (!a->report.empty()) write_file_atomic(a->report, r.report.dump(2) + "\n");
      std::cout << train::training_recipe_table(r);
      std::cout << "wrote " << a->out << " (" << r.size_bytes << " bytes)\n";
      return;
    }
    a->options.calib.assign(a->calib.begin(), a->calib.end());
    const quant::OptimizeResult r = quant::optimize_model(a->model, a->out, a->options);
    std::cout << quant::report_table(r.report);
    std::cout << "wrote " << a->out << " (" << r.size_bytes << " bytes)\n";
    if (!a->report.empty()) write_file_atomic(a->report, r.report.dump(2) + "\n");
  });
}

}  // namespace pitlane::cli
