// Background batch preparation: cached images -> (augmented) normalized float batches, on worker
// threads, while the trainer computes.
//
// The contents of batch b depend only on (stream seed, b) and the sample order, never on thread
// timing: each sample draws its augmentation from an Rng seeded by its position in the stream.
//
//   auto order = epoch_order(index, seed, epoch, samples_per_epoch);
//   BatchLoader loader(recs, order, spec, outputs, {.batch_size = 64, .threads = 1}, seed + epoch);
//   Batch batch;
//   while (loader.next(batch)) train_step(batch.images, batch.labels, batch.size);
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "pitlane/data/augment.h"
#include "pitlane/data/dataset.h"
#include "pitlane/data/model_metadata.h"

namespace pitlane::data {

struct Batch {
  int64_t size = 0;           // samples in this batch (the last one may be short)
  std::vector<float> images;  // size x 3 x height x width, preprocessed network input
  std::vector<float> labels;  // size x 2, normalized (v', w')
};

struct LoaderConfig {
  int batch_size = 64;         // samples per batch
  int threads = 1;             // worker threads preparing batches
  int queue_depth = 4;         // batches prepared ahead of the consumer
  bool augment = false;        // flip + photometric augmentation (training only)
  AugmentConfig augmentation;  // used when augment is set
};

// The samples of one epoch: `index` shuffled by (seed, epoch), truncated to `count` if count > 0.
std::vector<SampleRef> epoch_order(const std::vector<SampleRef>& index, uint64_t seed, int epoch,
                                   size_t count);

// Prepares one batch: samples [first, first + count) of `samples` (used by the loader's workers
// and directly by evaluation).
void make_batch(const std::vector<Recording>& recs, const std::vector<SampleRef>& samples,
                size_t first, size_t count, const PreprocessSpec& spec, const OutputSpec& outputs,
                const LoaderConfig& config, uint64_t stream_seed, Batch& out);

class BatchLoader {
 public:
  BatchLoader(const std::vector<Recording>& recs, std::vector<SampleRef> samples,
              const PreprocessSpec& spec, const OutputSpec& outputs, LoaderConfig config,
              uint64_t stream_seed);
  ~BatchLoader();  // stops and joins the workers
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Moves the next batch into `out` (waiting for it if needed); false after the last batch.
  bool next(Batch& out);
  int64_t num_batches() const { return num_batches_; }
  // Seconds the consumer spent waiting in next(): a loader that keeps up stays near zero.
  double wait_seconds() const { return wait_seconds_; }

 private:
  void work();

  const std::vector<Recording>& recs_;
  std::vector<SampleRef> samples_;
  PreprocessSpec spec_;
  OutputSpec outputs_;
  LoaderConfig config_;
  uint64_t stream_seed_;
  int64_t num_batches_ = 0;

  std::mutex mutex_;
  std::condition_variable cv_;
  int64_t next_claim_ = 0;      // next batch index a worker will claim
  int64_t next_consume_ = 0;    // next batch index the consumer will take
  std::vector<Batch> slots_;    // queue_depth slots; batch b lives in slots_[b % queue_depth]
  std::vector<int64_t> ready_;  // batch index held by each slot, -1 if none
  bool stop_ = false;
  std::exception_ptr error_;
  double wait_seconds_ = 0.0;
  std::vector<std::jthread> workers_;
};

}  // namespace pitlane::data
