#include "pitlane/record/recorder.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "pitlane/core/error.h"

namespace fs = std::filesystem;

namespace pitlane::record {
namespace {

class RecorderTest : public ::testing::Test {
 protected:
  pitlane::testing::TempDir tmp_{"rec"};
  const fs::path dir_ = tmp_.path();
};

TEST_F(RecorderTest, WritesTheDeepLearningStudioLayoutAndReadsBack) {
  RecordOptions opt;
  opt.circuits = {"simple_circuit", "nurburgring"};
  opt.directions = {track::Direction::kClockwise, track::Direction::kCounterClockwise};
  opt.perturb = true;
  opt.frames = 30;
  opt.frames_per_start = 12;  // several perturbed starts per recording
  opt.show_progress = false;
  const auto summaries = record(opt, dir_);
  ASSERT_EQ(summaries.size(), 4u);
  EXPECT_EQ(summaries[0].name, "simple_circuit_cw_perturbed");
  EXPECT_EQ(summaries[1].name, "simple_circuit_ccw_perturbed");
  for (const auto& s : summaries) {
    EXPECT_EQ(s.frames, 30);
    EXPECT_EQ(s.episodes, 3);
    std::ifstream csv(s.path / "data.csv");
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, "image_name, v, w, timestamp");
    int rows = 0;
    double last_t = -1.0;
    while (std::getline(csv, line)) {
      std::stringstream ss(line);
      std::string name, v, w, t;
      std::getline(ss, name, ',');
      std::getline(ss, v, ',');
      std::getline(ss, w, ',');
      std::getline(ss, t, ',');
      EXPECT_EQ(name, std::to_string(rows) + ".png");
      EXPECT_GE(std::stod(v), 2.9);
      EXPECT_LE(std::stod(v), 24.0);
      EXPECT_LE(std::abs(std::stod(w)), 7.1);
      EXPECT_GT(std::stod(t), last_t) << "timestamps increase";
      last_t = std::stod(t);
      const cv::Mat img = cv::imread((s.path / name).string());
      ASSERT_FALSE(img.empty()) << name;
      EXPECT_EQ(img.cols, 640);
      EXPECT_EQ(img.rows, 480);
      ++rows;
    }
    EXPECT_EQ(rows, 30);
  }
  // Nothing but the finished folders is left.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 4);
}

TEST_F(RecorderTest, SameSeedSameData) {
  RecordOptions opt;
  opt.circuits = {"montmelo"};
  opt.perturb = true;
  opt.frames = 10;
  opt.show_progress = false;
  opt.seed = 9;
  record(opt, dir_ / "a");
  record(opt, dir_ / "b");
  std::ifstream a(dir_ / "a" / "montmelo_cw_perturbed" / "data.csv");
  std::ifstream b(dir_ / "b" / "montmelo_cw_perturbed" / "data.csv");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());
}

TEST_F(RecorderTest, BadCircuitFailsBeforeWriting) {
  RecordOptions opt;
  opt.circuits = {"simple_circuit", "no_such_circuit"};
  opt.show_progress = false;
  EXPECT_THROW(record(opt, dir_), InputError);
  EXPECT_FALSE(fs::exists(dir_ / "simple_circuit_cw"));
}

}  // namespace
}  // namespace pitlane::record
