// Tiny synthetic recordings for tests: grey frames with a red line whose horizontal position
// follows w, so a network can learn w from the image in a few steps.
//
//   RecordingBuilder().frames(24).seed(3).write(dir / "rec_a");
#pragma once

#include "../temp_dir.h"

#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "pitlane/core/rng.h"

namespace pitlane::test {

class RecordingBuilder {
 public:
  RecordingBuilder& frames(int n) {
    frames_ = n;
    return *this;
  }
  RecordingBuilder& seed(uint64_t s) {
    seed_ = s;
    return *this;
  }
  RecordingBuilder& header(std::string h) {
    header_ = std::move(h);
    return *this;
  }
  RecordingBuilder& bare_names(bool b) {
    bare_names_ = b;
    return *this;
  }  // "17" not "17.png"
  RecordingBuilder& size(int w, int h) {
    width_ = w;
    height_ = h;
    return *this;
  }

  // Writes the folder; returns its path.
  std::filesystem::path write(const std::filesystem::path& dir) const {
    std::filesystem::create_directories(dir);
    std::ofstream csv(dir / "data.csv");
    csv << header_ << "\n";
    Rng rng(seed_);
    for (int i = 0; i < frames_; ++i) {
      const double w = rng.uniform(-3.0, 3.0);
      const double v = 12.0 - 1.5 * std::abs(w);
      cv::Mat img(height_, width_, CV_8UC3, cv::Scalar(110, 110, 110));
      // The line leans with w in the lower half (the part the network sees).
      const int x_bottom = width_ / 2 + static_cast<int>(w * width_ / 8);
      cv::line(img, {width_ / 2, height_ / 2}, {x_bottom, height_ - 1}, cv::Scalar(0, 0, 230),
               std::max(2, width_ / 40));
      cv::imwrite((dir / (std::to_string(i) + ".png")).string(), img,
                  {cv::IMWRITE_PNG_COMPRESSION, 1});
      csv << (bare_names_ ? std::to_string(i) : std::to_string(i) + ".png") << ", " << v << ", "
          << w << ", " << 0.05 * i << "\n";
    }
    return dir;
  }

 private:
  int frames_ = 16;
  uint64_t seed_ = 1;
  std::string header_ = "image_name, v, w, timestamp";
  bool bare_names_ = false;
  int width_ = 640, height_ = 480;
};

using pitlane::testing::TempDir;  // tests/temp_dir.h

}  // namespace pitlane::test
