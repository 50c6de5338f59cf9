#include "pitlane/record/recorder.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"

#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/interrupt.h"

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

// A learner that presses Ctrl-C (raises SIGINT in this process) at its sixth frame.
class InterruptingBrain : public sim::Brain {
 public:
  std::string name() const override { return "interrupting"; }
  sim::Command act(const cv::Mat&) override {
    if (++calls_ == 6) std::raise(SIGINT);
    return {7.0, 0.0};
  }
  double last_inference_ms() const override { return 1.0; }

 private:
  int calls_ = 0;
};

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(RecorderTest, InterruptRemovesThePartialRecordingAndStaleOnes) {
  // Left by a recorder that was killed (its process is gone) and by one still running (pid 1).
  fs::create_directories(dir_ / ".simple_circuit_cw_dagger.partial-4194399" / "sub");
  fs::create_directories(dir_ / ".simple_circuit_cw_dagger.partial-1");
  InterruptingBrain learner;
  RecordOptions opt;
  opt.circuits = {"simple_circuit"};
  opt.frames = 50;
  opt.show_progress = false;
  opt.learner = &learner;
  try {
    record(opt, dir_);
    FAIL() << "not interrupted";
  } catch (const Interrupted& e) {
    EXPECT_EQ(e.signal(), SIGINT);
    EXPECT_EQ(e.exit_code(), 130);
  }
  EXPECT_EQ(entries(dir_), std::vector<std::string>{".simple_circuit_cw_dagger.partial-1"});
  // Outside the recorder's scope SIGINT has its default action again.
  struct sigaction now = {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

// The CLI: SIGINT mid-recording exits 130 with one line and leaves no partial folder.
TEST_F(RecorderTest, CtrlCOnTheCommandLineLeavesNothingBehind) {
  const std::string cmd = "timeout --preserve-status --signal=INT 3 " +
                          std::string(PITLANE_BINARY) +
                          " record --circuits montreal --frames 100000 --out " + dir_.string() +
                          " 2>" + (dir_ / "err.txt").string() + " >/dev/null";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::ifstream err(dir_ / "err.txt");
  std::string line;
  std::getline(err, line);
  EXPECT_EQ(line, "pitlane: interrupted by SIGINT; partial output removed");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"err.txt"});
}

}  // namespace
}  // namespace pitlane::record
