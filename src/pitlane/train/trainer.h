// Training PilotNet with libtorch: Adam on MSE of normalized (v, w), learning-rate decay on
// plateau, early stopping, best weights by validation loss, seeded and resumable.
//
// The fixed TrainConfig is kept apart from the checkpointable TrainingState. libtorch stays inside
// trainer.cpp: this header only speaks plain data (PilotNetWeights), so the CLI and tests compile
// without torch headers.
//
//   TrainConfig cfg;  cfg.arch = Arch::valid;  cfg.epochs = 8;  cfg.checkpoint_dir = "ckpt";
//   TrainResult r = train_pilotnet(recs, split.train, split.validation, spec, outputs, cfg);
//   write_pilotnet_onnx("model.onnx", r.best, meta);
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pitlane/data/augment.h"
#include "pitlane/data/dataset.h"
#include "pitlane/data/model_metadata.h"
#include "pitlane/train/compression.h"
#include "pitlane/train/pilotnet.h"

namespace pitlane::train {

// What to train and how; never changes during a run (a resumed run must pass the same).
struct TrainConfig {
  Arch arch = Arch::valid;
  int epochs = 10;               // upper bound; early stopping may end sooner
  int batch_size = 64;           // samples per optimizer step
  double learning_rate = 1e-3;   // Adam's initial step size
  double lr_decay = 0.5;         // factor applied when validation loss stops improving
  int lr_patience = 1;           // epochs without improvement before decaying the rate
  int early_stop_patience = 3;   // epochs without improvement before stopping
  uint64_t seed = 42;            // weights, data order and augmentation
  size_t samples_per_epoch = 0;  // samples drawn per epoch from the oversampled index; 0 = all
  bool oversample = true;        // curve oversampling table on the training split
  bool augment = true;           // flip + photometric augmentation on the training split
  data::AugmentConfig augmentation;
  int compute_threads = 2;  // libtorch intra-op threads
  int loader_threads = 1;   // background batch-preparation threads
  int64_t max_steps = 0;    // stop after this many optimizer steps (tests); 0 = no limit
  int64_t measure_loader_images = 2048;  // images to time the loader alone on; 0 = skip
  std::filesystem::path checkpoint_dir;  // where checkpoints go; "" = none
  bool resume = false;                   // continue from checkpoint_dir if it holds a checkpoint
  bool progress = true;                  // progress bar on stderr
  // Start from these weights instead of a fresh initialization (fine-tuning, DAgger rounds).
  std::optional<PilotNetWeights> initial_weights;
  // Weight of each output's squared error in the loss, (v, w). The study's output ranges make a
  // normalized w vary about ten times less than v, so with equal weights the loss is mostly the
  // speed label; weighting w up spends the network on steering, which is what keeps a car on
  // the road. Validation loss uses the same weights (it picks the best epoch).
  std::vector<double> output_weights = {1.0, 1.0};
  // Training-time optimization (pruning, clustering, QAT): weights constrained in every step,
  // the input normalization folded or frozen, no early stopping, and the final weights returned
  // as `best` (the schedule's promises hold only at the end). Not resumable.
  std::optional<CompressionConfig> compression;
};

// One finished epoch.
struct EpochRecord {
  int epoch = 0;                 // 1-based
  double train_loss = 0.0;       // mean MSE over the epoch's batches (augmented data)
  double validation_loss = 0.0;  // MSE on the validation split (NaN if none)
  double learning_rate = 0.0;    // rate used during the epoch
  double seconds = 0.0;          // wall time of the epoch including validation, s
  double images_per_s = 0.0;     // training images per second (steps only)
  double loader_wait_s = 0.0;    // time the trainer waited for the loader, s
};

// Everything needed to continue a run, saved with each checkpoint.
struct TrainingState {
  int epochs_done = 0;
  int64_t steps = 0;           // optimizer steps so far
  double learning_rate = 0.0;  // current rate
  double best_validation_loss = std::numeric_limits<double>::infinity();
  int best_epoch = 0;  // epoch of the best weights (0: none yet)
  int epochs_since_best = 0;
  int epochs_since_decay = 0;
  bool stopped_early = false;
  std::vector<EpochRecord> history;
};

struct TrainResult {
  PilotNetWeights best;  // weights with the lowest validation loss (last if no val)
  // With compression.qat: each activation point's learned range (compression.h's order).
  std::vector<ActivationRange> activation_ranges;
  TrainingState state;
  std::vector<double> step_losses;   // training loss of every step of this process
  double wall_s = 0.0;               // whole run, this process, s
  double train_images_per_s = 0.0;   // training throughput over this process's steps
  double loader_images_per_s = 0.0;  // the loader alone (no training), 0 if not measured
  int64_t train_samples = 0;         // oversampled training index size
  int64_t validation_samples = 0;
};

TrainResult train_pilotnet(const std::vector<data::Recording>& recs, std::span<const int> train_ids,
                           std::span<const int> validation_ids, const data::PreprocessSpec& spec,
                           const data::OutputSpec& outputs, const TrainConfig& config);

// Fresh PilotNet weights as libtorch initializes them under `seed` (BatchNorm statistics get
// mildly random values too, so exports are tested with non-trivial normalization).
PilotNetWeights init_pilotnet(Arch arch, uint64_t seed);

// libtorch's forward pass (eval mode) of `net` on `input` (batch x 3 x H x W floats): batch x 2.
std::vector<float> torch_forward(const PilotNetWeights& net, std::span<const float> input,
                                 int64_t batch);

}  // namespace pitlane::train
