#include "pitlane/data/image_writer.h"

#include <opencv2/imgcodecs.hpp>

#include "pitlane/core/error.h"

namespace pitlane::data {

ImageWriter::ImageWriter(int threads, size_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { work(); });
}

ImageWriter::~ImageWriter() {
  try {
    finish();
  } catch (...) {  // NOLINT(bugprone-empty-catch): finish() reported it already, or nobody asked
  }
}

void ImageWriter::write(std::filesystem::path path, const cv::Mat& image) {
  std::unique_lock lock(mutex_);
  has_room_.wait(lock, [&] { return queue_.size() < max_queued_ || error_; });
  if (error_) std::rethrow_exception(error_);
  queue_.push_back({std::move(path), image.clone()});
  has_work_.notify_one();
}

void ImageWriter::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      has_work_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      has_room_.notify_one();
    }
    try {
      if (!cv::imwrite(job.path.string(), job.image, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
        throw InputError(job.path.string() +
                         ": cannot write image; check free space and permissions");
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      has_room_.notify_all();
    }
  }
}

void ImageWriter::finish() {
  {
    std::lock_guard lock(mutex_);
    if (closing_ && threads_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return;
    }
    closing_ = true;
  }
  has_work_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (error_) std::rethrow_exception(error_);
}

}  // namespace pitlane::data
