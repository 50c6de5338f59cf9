#include "pitlane/sim/video.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <opencv2/videoio.hpp>

#include "pitlane/core/error.h"
#include "sim_test_util.h"

namespace pitlane::sim {
namespace {

namespace fs = std::filesystem;

// Drives straight ahead at 3 m/s.
class StraightBrain : public sim::Brain {
 public:
  std::string name() const override { return "straight"; }
  Command act(const cv::Mat&) override { return {3.0, 0.0}; }
  double last_inference_ms() const override { return 1.0; }
};

class VideoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pitlane_video_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A 2 s run of `timing` with a video to `file`; returns frames_written().
  int64_t drive(const fs::path& file, const std::string& timing = "fixed:5") {
    LapVideo video(file, circuit_);
    StraightBrain brain;
    EpisodeConfig config;
    config.timeout_s = 2.0;
    config.timing = TimingModel::parse(timing);
    run_episode(circuit_, renderer_, brain, config, &video);
    video.finish();
    return video.frames_written();
  }

  static std::string bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
  track::Circuit circuit_ = testing::stadium();
  Renderer renderer_{circuit_};
};

// Every type writes a 320x240 video that keeps the 20 Hz camera clock, even for a brain slower
// than the camera (its frames repeat), and leaves no temporary file behind.
TEST_F(VideoTest, WritesEveryCameraPeriodAtThreeHundredTwentyByTwoForty) {
  for (const char* type : {".avi", ".mp4", ".webm"}) {
    // The last iteration starts at 1.95 s (every 50 ms) or 1.92 s (every 120 ms): the video
    // runs until its camera period, 40 or 39 frames.
    for (const auto& [timing, expected] : {std::pair{"fixed:5", 40}, std::pair{"fixed:120", 39}}) {
      const fs::path file = dir_ / (std::string("lap") + type);
      const int64_t frames = drive(file, timing);
      EXPECT_EQ(frames, expected) << type << " " << timing;
      cv::VideoCapture read(file.string());
      ASSERT_TRUE(read.isOpened()) << type;
      cv::Mat frame;
      int64_t count = 0;
      while (read.read(frame)) {
        ASSERT_EQ(frame.cols, 320) << type;
        ASSERT_EQ(frame.rows, 240) << type;
        ++count;
      }
      // Container bookkeeping may add or drop a frame at the end; the clock is what matters.
      EXPECT_NEAR(static_cast<double>(count), expected, 1.0) << type << " " << timing;
      EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1) << type;
      fs::remove(file);
    }
  }
}

// The frames are the simulation's and every encoder runs at fixed settings on one thread: the
// same run writes the same bytes, whatever the container.
TEST_F(VideoTest, SameRunSameBytes) {
  for (const char* type : {".avi", ".mp4", ".webm"}) {
    const fs::path a = dir_ / (std::string("a") + type), b = dir_ / (std::string("b") + type);
    drive(a);
    drive(b);
    EXPECT_EQ(bytes(a), bytes(b)) << type;
  }
}

// Small or narrow videos (report thumbnails) are written too; the mini-map is left out where it
// does not fit.
TEST_F(VideoTest, SmallAndNarrowSizes) {
  for (const cv::Size size : {cv::Size(16, 12), cv::Size(32, 480)}) {
    const fs::path file = dir_ / "small.avi";
    {
      LapVideo video(file, circuit_, size);
      StraightBrain brain;
      EpisodeConfig config;
      config.timeout_s = 0.5;
      run_episode(circuit_, renderer_, brain, config, &video);
      video.finish();
    }
    cv::VideoCapture read(file.string());
    cv::Mat frame;
    ASSERT_TRUE(read.read(frame)) << size;
    EXPECT_EQ(frame.size(), size);
    fs::remove(file);
  }
}

TEST_F(VideoTest, UnknownTypeAndAbandonedVideos) {
  EXPECT_THROW(LapVideo(dir_ / "lap.gif", circuit_), InputError);
  EXPECT_THROW(LapVideo(dir_ / "lap.avi", circuit_, {321, 240}), InputError);  // odd width
  {
    // Destroyed without finish(): neither the video nor its temporary file remains.
    LapVideo video(dir_ / "lap.avi", circuit_);
    StraightBrain brain;
    EpisodeConfig config;
    config.timeout_s = 1.0;
    run_episode(circuit_, renderer_, brain, config, &video);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 0);
}

}  // namespace
}  // namespace pitlane::sim
