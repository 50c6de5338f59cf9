// ImageWriter: PNG files written by background threads, so that encoding (about 25 ms a frame
// at 640x480) does not hold up the simulation that produces the frames.
//
// write() copies the image into a bounded queue and returns; it blocks only while the queue is
// full. finish() waits for every file and rethrows the first error. The destructor waits too
// (without throwing), so no file is left half-written by a normal exit.
//
//   ImageWriter writer(/*threads=*/2);
//   writer.write("out/0.png", frame);
//   writer.finish();
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

namespace pitlane::data {

class ImageWriter {
 public:
  explicit ImageWriter(int threads = 2, size_t max_queued = 32);
  ~ImageWriter();
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;

  void write(std::filesystem::path path, const cv::Mat& image);
  void finish();

 private:
  struct Job {
    std::filesystem::path path;
    cv::Mat image;
  };
  void work();

  std::mutex mutex_;
  std::condition_variable has_work_, has_room_;
  std::deque<Job> queue_;
  size_t max_queued_;
  bool closing_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace pitlane::data
