#include "pitlane/data/loader.h"

#include <algorithm>
#include <chrono>
#include <span>

#include "pitlane/core/rng.h"
#include "pitlane/data/preprocess.h"

namespace pitlane::data {

std::vector<SampleRef> epoch_order(const std::vector<SampleRef>& index, uint64_t seed, int epoch,
                                   size_t count) {
  std::vector<SampleRef> order = index;
  Rng rng(seed * 1000003ull + static_cast<uint64_t>(epoch) + 1);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  if (count > 0 && count < order.size()) order.resize(count);
  return order;
}

void make_batch(const std::vector<Recording>& recs, const std::vector<SampleRef>& samples,
                size_t first, size_t count, const PreprocessSpec& spec, const OutputSpec& outputs,
                const LoaderConfig& config, uint64_t stream_seed, Batch& out) {
  const size_t per_image = input_size(spec);
  out.size = static_cast<int64_t>(count);
  out.images.resize(count * per_image);
  out.labels.resize(count * 2);
  cv::Mat work;
  for (size_t k = 0; k < count; ++k) {
    const SampleRef ref = samples[first + k];
    const Recording& rec = recs[ref.recording];
    auto [v, w] = normalized_labels(rec.frames[ref.frame], outputs);
    const cv::Mat cached = rec.image(ref.frame);
    const cv::Mat* image = &cached;
    if (config.augment) {
      Rng rng(stream_seed * 0x9E3779B97F4A7C15ull + first + k);
      cached.copyTo(work);
      if (rng.uniform() < config.augmentation.flip_probability) flip_sample(work, w, outputs);
      augment(work, config.augmentation, rng);
      image = &work;
    }
    to_tensor(*image, spec, std::span<float>(out.images).subspan(k * per_image, per_image));
    out.labels[2 * k] = v;
    out.labels[2 * k + 1] = w;
  }
}

BatchLoader::BatchLoader(const std::vector<Recording>& recs, std::vector<SampleRef> samples,
                         const PreprocessSpec& spec, const OutputSpec& outputs, LoaderConfig config,
                         uint64_t stream_seed)
    : recs_(recs),
      samples_(std::move(samples)),
      spec_(spec),
      outputs_(outputs),
      config_(config),
      stream_seed_(stream_seed) {
  config_.batch_size = std::max(1, config_.batch_size);
  config_.queue_depth = std::max(1, config_.queue_depth);
  num_batches_ =
      (static_cast<int64_t>(samples_.size()) + config_.batch_size - 1) / config_.batch_size;
  slots_.resize(config_.queue_depth);
  ready_.assign(config_.queue_depth, -1);
  for (int t = 0; t < std::max(1, config_.threads); ++t) workers_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  workers_.clear();  // joins
}

void BatchLoader::work() {
  const int64_t depth = config_.queue_depth;
  while (true) {
    int64_t b;
    {
      std::unique_lock lock(mutex_);
      // Claim the next batch once its slot is free (the consumer is at most depth behind).
      cv_.wait(lock, [&] {
        return stop_ || next_claim_ >= num_batches_ || next_claim_ < next_consume_ + depth;
      });
      if (stop_ || next_claim_ >= num_batches_) return;
      b = next_claim_++;
    }
    Batch batch;
    try {
      const size_t first = static_cast<size_t>(b) * config_.batch_size;
      const size_t count = std::min<size_t>(config_.batch_size, samples_.size() - first);
      make_batch(recs_, samples_, first, count, spec_, outputs_, config_, stream_seed_, batch);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stop_ = true;
      cv_.notify_all();
      return;
    }
    {
      std::lock_guard lock(mutex_);
      slots_[b % depth] = std::move(batch);
      ready_[b % depth] = b;
    }
    cv_.notify_all();
  }
}

bool BatchLoader::next(Batch& out) {
  std::unique_lock lock(mutex_);
  if (next_consume_ >= num_batches_) return false;
  const int64_t depth = config_.queue_depth;
  const int64_t b = next_consume_;
  const auto start = std::chrono::steady_clock::now();
  cv_.wait(lock, [&] { return error_ || ready_[b % depth] == b; });
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (error_) std::rethrow_exception(error_);
  out = std::move(slots_[b % depth]);
  ready_[b % depth] = -1;
  ++next_consume_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace pitlane::data
