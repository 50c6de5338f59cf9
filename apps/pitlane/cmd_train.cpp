// pitlane train: trains PilotNet on recordings and writes a self-describing ONNX model.
#include <iostream>

#include "commands.h"
#include "options.h"
#include "pitlane/core/error.h"
#include "pitlane/train/onnx_reader.h"
#include "pitlane/train/pilotnet.h"
#include "pitlane/train/train_job.h"

namespace fs = std::filesystem;

namespace pitlane::cli {
namespace {

struct TrainArgs {
  std::vector<std::string> data, validation;
  std::string arch = "pilotnet", out, checkpoint, summary, init;
  train::TrainJob job;
  bool no_augment = false, no_oversample = false, quiet = false;
  bool arch_given = false;  // --arch on the command line (not its default)
};

void run_train(const TrainArgs& a) {
  train::TrainJob job = a.job;
  job.data.assign(a.data.begin(), a.data.end());
  job.validation.assign(a.validation.begin(), a.validation.end());
  job.out = a.out;
  job.init = a.init;
  job.summary = a.summary;
  train::TrainConfig& cfg = job.config;
  cfg.arch = train::parse_arch(a.arch);
  if (a.arch_given && !a.init.empty()) {
    // Fine-tuning keeps the parent's architecture: an explicit, different --arch is a mistake.
    data::ModelMetadata parent;
    (void)train::read_pilotnet_onnx(a.init, &parent);
    if (parent.arch != train::arch_name(cfg.arch))
      throw InputError("--arch " + a.arch + " differs from " + a.init + "'s architecture (" +
                       parent.arch + "); fine-tuning keeps the --init model's, leave --arch out");
  }
  cfg.augment = !a.no_augment;
  cfg.oversample = !a.no_oversample;
  cfg.progress = !a.quiet;
  cfg.checkpoint_dir = a.checkpoint.empty() ? fs::path(a.out + ".ckpt") : fs::path(a.checkpoint);
  const train::TrainJobResult r = train::run_train_job(job);
  std::cout << train::train_table(r, a.out);
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
  cmd->add_option("--val-fraction", a->job.validation_fraction,
                  "Fraction of frames (whole recordings) held out for validation")
      ->capture_default_str()
      ->check(finite_in(0.0, 0.9));
  CLI::Option* arch =
      cmd->add_option("--arch", a->arch, "pilotnet (valid padding) or pilotnet-same")
          ->capture_default_str();
  cmd->add_option("--out", a->out, "Output model (.onnx)")->required();
  cmd->add_option("--epochs", a->job.config.epochs, "Maximum epochs")
      ->capture_default_str()
      ->check(whole_in(1, 100'000));
  cmd->add_option("--batch", a->job.config.batch_size, "Batch size")
      ->capture_default_str()
      ->check(whole_in(1, 65536));
  cmd->add_option("--lr", a->job.config.learning_rate, "Adam learning rate")
      ->capture_default_str()
      ->check(finite_in(1e-9, 10.0));
  cmd->add_option("--seed", a->job.config.seed, "Seed for weights, data order, augmentation")
      ->capture_default_str();
  cmd->add_option("--samples-per-epoch", a->job.config.samples_per_epoch,
                  "Samples per epoch drawn from the oversampled index (0: all)")
      ->capture_default_str()
      ->check(whole_in(0, 1'000'000'000));
  cmd->add_option("--patience", a->job.config.early_stop_patience,
                  "Stop after this many epochs without validation improvement")
      ->capture_default_str()
      ->check(whole_in(0, 100'000));
  cmd->add_option("--threads", a->job.config.compute_threads, "libtorch threads")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads));
  cmd->add_option("--loader-threads", a->job.config.loader_threads, "Batch preparation threads")
      ->capture_default_str()
      ->check(whole_in(1, kMaxThreads));
  cmd->add_option("--init", a->init,
                  "Start from this pitlane-written model's weights (fine-tuning, DAgger rounds)");
  cmd->add_option("--output-weights", a->job.config.output_weights,
                  "Loss weight of each output, v,w (w > v spends the network on steering)")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str()
      ->check(finite_in(0.0, 1e6));
  cmd->add_option("--checkpoint", a->checkpoint, "Checkpoint folder (default: OUT.ckpt)");
  cmd->add_flag("--resume", a->job.config.resume, "Continue from the checkpoint folder");
  cmd->add_flag("--no-augment", a->no_augment, "Train without flip and photometric augmentation");
  cmd->add_flag("--no-oversample", a->no_oversample, "Train without curve oversampling");
  cmd->add_option("--summary", a->summary, "Training summary JSON (default: OUT.train.json)");
  cmd->add_flag("--quiet", a->quiet, "No progress bars");
  cmd->callback([a, arch] {
    a->arch_given = arch->count() > 0;
    run_train(*a);
  });
}

}  // namespace pitlane::cli
