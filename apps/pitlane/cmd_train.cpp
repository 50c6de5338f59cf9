// pitlane train: trains PilotNet on recordings and writes a self-describing ONNX model.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "commands.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/progress.h"
#include "pitlane/core/sha256.h"
#include "pitlane/core/table.h"
#include "pitlane/data/dataset.h"
#include "pitlane/train/onnx_reader.h"
#include "pitlane/train/onnx_writer.h"
#include "pitlane/train/trainer.h"

namespace fs = std::filesystem;

namespace pitlane::cli {
namespace {

struct TrainArgs {
  std::vector<std::string> data, validation;
  std::string arch = "pilotnet", out, checkpoint, summary, init;
  train::TrainConfig config;
  double validation_fraction = 0.2;
  int load_threads = 2;
  bool no_augment = false, no_oversample = false, quiet = false;
};

std::vector<data::Recording> load_with_images(const std::vector<std::string>& dirs,
                                              const data::PreprocessSpec& spec, int threads,
                                              bool progress) {
  std::vector<fs::path> paths(dirs.begin(), dirs.end());
  std::vector<data::Recording> recs = data::load_recordings(paths);
  int64_t frames = 0;
  for (const auto& r : recs) frames += static_cast<int64_t>(r.frames.size());
  ProgressBar bar("decode", frames, "img", progress);
  int64_t done = 0;
  for (auto& r : recs) {
    data::load_images(r, spec, threads);
    done += static_cast<int64_t>(r.frames.size());
    bar.update(done);
  }
  bar.finish();
  return recs;
}

void run_train(const TrainArgs& a) {
  train::TrainConfig cfg = a.config;
  cfg.arch = train::parse_arch(a.arch);
  cfg.augment = !a.no_augment;
  cfg.oversample = !a.no_oversample;
  cfg.progress = !a.quiet;
  cfg.checkpoint_dir = a.checkpoint.empty() ? fs::path(a.out + ".ckpt") : fs::path(a.checkpoint);
  if (cfg.epochs < 1 || cfg.batch_size < 1 || !(cfg.learning_rate > 0)) {
    throw InputError("--epochs, --batch and --lr must be positive");
  }
  check_writable(a.out);
  cv::setNumThreads(1);  // OpenCV's own pool would fight libtorch's threads for 2 cores

  data::ModelMetadata meta;  // the study's preprocessing and output ranges
  if (!a.init.empty()) {
    // Fine-tuning keeps the parent's preprocessing and output ranges; the architecture follows.
    cfg.initial_weights = train::read_pilotnet_onnx(a.init, &meta);
    cfg.arch = cfg.initial_weights->arch;
    meta.parent = fs::path(a.init).filename().string() + " sha256:" + sha256_file(a.init);
    meta.training_data.clear();
  }
  meta.arch = train::arch_name(cfg.arch);
  meta.recipe = "baseline";
  meta.seed = std::to_string(cfg.seed);
  const auto t0 = std::chrono::steady_clock::now();

  // Explicit validation recordings, or a split of --data by recording.
  std::vector<std::string> all = a.data;
  all.insert(all.end(), a.validation.begin(), a.validation.end());
  std::vector<data::Recording> recs =
      load_with_images(all, meta.preprocess, a.load_threads, !a.quiet);
  const double decode_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<int> train_ids, val_ids;
  if (!a.validation.empty()) {
    for (size_t i = 0; i < recs.size(); ++i) {
      (i < a.data.size() ? train_ids : val_ids).push_back(static_cast<int>(i));
    }
  } else {
    const data::RecordingSplit split =
        data::split_by_recording(recs, a.validation_fraction, 0.0, cfg.seed);
    train_ids = split.train;
    val_ids = split.validation;
  }
  for (int i : train_ids) meta.training_data.push_back(recs[i].name);

  const train::TrainResult r =
      train::train_pilotnet(recs, train_ids, val_ids, meta.preprocess, meta.outputs, cfg);
  train::write_pilotnet_onnx(a.out, r.best, meta);

  // Summary: table on stdout, JSON beside the model.
  Table t({"epoch", "train_loss", "val_loss", "lr", "seconds", "img/s", "loader_wait_s"});
  for (const auto& e : r.state.history) {
    t.add({std::to_string(e.epoch), format_fixed(e.train_loss, 5),
           format_fixed(e.validation_loss, 5), format_fixed(e.learning_rate * 1e3, 3) + "e-3",
           format_fixed(e.seconds, 1), format_fixed(e.images_per_s, 0),
           format_fixed(e.loader_wait_s, 1)});
  }
  std::cout << t.render();
  std::string val_names;
  for (int i : val_ids) val_names += (val_names.empty() ? "" : ",") + recs[i].name;
  std::printf(
      "%s: %s, %lld parameters; best epoch %d (val mse %.5f)%s\n"
      "train %lld samples (oversampled) from %zu recordings, validation %lld samples [%s]\n"
      "decode %.1f s; loader alone %.0f img/s; training steps %.0f img/s; total %.1f s\n",
      a.out.c_str(), meta.arch.c_str(), static_cast<long long>(r.best.parameter_count()),
      r.state.best_epoch, r.state.best_validation_loss,
      r.state.stopped_early ? " (stopped early)" : "", static_cast<long long>(r.train_samples),
      train_ids.size(), static_cast<long long>(r.validation_samples), val_names.c_str(), decode_s,
      r.loader_images_per_s, r.train_images_per_s,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  nlohmann::json j;
  j["model"] = fs::path(a.out).filename().string();
  j["arch"] = meta.arch;
  j["seed"] = cfg.seed;
  j["parameters"] = r.best.parameter_count();
  j["training_data"] = meta.training_data;
  j["validation_data"] = nlohmann::json::array();
  for (int i : val_ids) j["validation_data"].push_back(recs[i].name);
  j["train_samples"] = r.train_samples;
  j["validation_samples"] = r.validation_samples;
  j["best_epoch"] = r.state.best_epoch;
  j["best_validation_mse"] = r.state.best_validation_loss;
  j["stopped_early"] = r.state.stopped_early;
  j["epochs"] = nlohmann::json::array();
  for (const auto& e : r.state.history) {
    j["epochs"].push_back({{"epoch", e.epoch},
                           {"train_loss", e.train_loss},
                           {"validation_loss", e.validation_loss},
                           {"learning_rate", e.learning_rate},
                           {"seconds", e.seconds},
                           {"images_per_s", e.images_per_s},
                           {"loader_wait_s", e.loader_wait_s}});
  }
  j["timing"] = {{"decode_s", decode_s},
                 {"loader_alone_images_per_s", r.loader_images_per_s},
                 {"training_steps_images_per_s", r.train_images_per_s},
                 {"train_wall_s", r.wall_s},
                 {"compute_threads", cfg.compute_threads},
                 {"loader_threads", cfg.loader_threads}};
  const std::string summary = a.summary.empty() ? a.out + ".train.json" : a.summary;
  write_file_atomic(summary, j.dump(2) + "\n");
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand(
      "train",
      "Train PilotNet on recordings and write a self-describing ONNX model\n\nExamples:\n"
      "  pitlane train --data rec/many_curves_cw rec/nurburgring_ccw --arch pilotnet "
      "--out pilotnet.onnx\n"
      "  pitlane train --data rec/* --arch pilotnet-same --epochs 6 --samples-per-epoch 20000 "
      "--out same.onnx");
  cmd->add_option("--data", a->data, "Recording folders (N.png + data.csv)")->required();
  cmd->add_option("--val", a->validation,
                  "Validation recording folders (default: split --data by recording)");
  cmd->add_option("--val-fraction", a->validation_fraction,
                  "Fraction of frames (whole recordings) held out for validation")
      ->capture_default_str();
  cmd->add_option("--arch", a->arch, "pilotnet (valid padding) or pilotnet-same")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Output model (.onnx)")->required();
  cmd->add_option("--epochs", a->config.epochs, "Maximum epochs")->capture_default_str();
  cmd->add_option("--batch", a->config.batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--lr", a->config.learning_rate, "Adam learning rate")->capture_default_str();
  cmd->add_option("--seed", a->config.seed, "Seed for weights, data order, augmentation")
      ->capture_default_str();
  cmd->add_option("--samples-per-epoch", a->config.samples_per_epoch,
                  "Samples per epoch drawn from the oversampled index (0: all)")
      ->capture_default_str();
  cmd->add_option("--patience", a->config.early_stop_patience,
                  "Stop after this many epochs without validation improvement")
      ->capture_default_str();
  cmd->add_option("--threads", a->config.compute_threads, "libtorch threads")
      ->capture_default_str();
  cmd->add_option("--loader-threads", a->config.loader_threads, "Batch preparation threads")
      ->capture_default_str();
  cmd->add_option("--init", a->init,
                  "Start from this pitlane-written model's weights (fine-tuning, DAgger rounds)");
  cmd->add_option("--output-weights", a->config.output_weights,
                  "Loss weight of each output, v,w (w > v spends the network on steering)")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint folder (default: OUT.ckpt)");
  cmd->add_flag("--resume", a->config.resume, "Continue from the checkpoint folder");
  cmd->add_flag("--no-augment", a->no_augment, "Train without flip and photometric augmentation");
  cmd->add_flag("--no-oversample", a->no_oversample, "Train without curve oversampling");
  cmd->add_option("--summary", a->summary, "Training summary JSON (default: OUT.train.json)");
  cmd->add_flag("--quiet", a->quiet, "No progress bars");
  cmd->callback([a] { run_train(*a); });
}

}  // namespace pitlane::cli
