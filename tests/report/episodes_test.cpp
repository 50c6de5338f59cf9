#include "pitlane/report/episodes.h"

#include <gtest/gtest.h>

#include <opencv2/videoio.hpp>

#include "../temp_dir.h"
#include "fixture_run.h"
#include "pitlane/core/error.h"
#include "pitlane/report/clip.h"

namespace pitlane::report {
namespace {

using Json = nlohmann::ordered_json;

class ReportEpisodes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("report-episodes");
    results_ = new Json(fixture::write_run(dir_->path(), "episodes"));
  }
  static void TearDownTestSuite() {
    delete results_;
    delete dir_;
  }
  static const Json& run(const std::string& model, int repetition) {
    for (const auto& r : (*results_)["closed_loop"]) {
      if (r["model"] == model && r["repetition"] == repetition) return r;
    }
    throw std::runtime_error("no run " + model);
  }
  static testing::TempDir* dir_;
  static Json* results_;
};
testing::TempDir* ReportEpisodes::dir_ = nullptr;
Json* ReportEpisodes::results_ = nullptr;

TEST_F(ReportEpisodes, SpecTakesTheTimingTheStudyDroveWith) {
  const EpisodeSpec base = episode_spec(dir_->path(), *results_, run("baseline", 0));
  EXPECT_EQ(base.file, dir_->path() / "models/baseline.onnx");
  EXPECT_EQ(base.timing.kind, sim::TimingModel::Kind::kFixed);
  EXPECT_DOUBLE_EQ(base.timing.fixed_ms, fixture::kLatencyMs);
  EXPECT_EQ(base.seed, fixture::kSeed);
  EXPECT_DOUBLE_EQ(base.timeout_s, fixture::kTimeoutS);
  EXPECT_FALSE(base.perturb_start);

  Json slow = run("baseline", 0);
  slow["slowdown"] = 30.0;  // the benchmarked latency times the device's factor
  EXPECT_DOUBLE_EQ(episode_spec(dir_->path(), *results_, slow).timing.fixed_ms, 300.0);
  Json fixed = *results_;
  fixed["config"]["drive"]["timing"] = "fixed:5";
  EXPECT_DOUBLE_EQ(episode_spec(dir_->path(), fixed, slow).timing.fixed_ms, 150.0);

  const EpisodeSpec expert = episode_spec(dir_->path(), *results_, run("expert", 0));
  EXPECT_TRUE(expert.file.empty());
  EXPECT_DOUBLE_EQ(expert.timing.fixed_ms, fixture::kLatencyMs);
}

TEST_F(ReportEpisodes, LaterRepetitionsArePerturbedAsConfigured) {
  const EpisodeSpec rep1 = episode_spec(dir_->path(), *results_, run("baseline", 1));
  EXPECT_TRUE(rep1.perturb_start);
  EXPECT_TRUE(rep1.perturb_style);
  Json old = *results_;  // results from before drive.perturb: the start only
  old["config"]["drive"].erase("perturb");
  const EpisodeSpec old_rep1 = episode_spec(dir_->path(), old, run("baseline", 1));
  EXPECT_TRUE(old_rep1.perturb_start);
  EXPECT_FALSE(old_rep1.perturb_style);
  EXPECT_FALSE(old_rep1.weather);
  Json weather = *results_;
  weather["config"]["drive"]["perturb"] = {"weather"};
  const EpisodeSpec weather_rep1 = episode_spec(dir_->path(), weather, run("baseline", 1));
  EXPECT_TRUE(weather_rep1.weather);
  EXPECT_FALSE(weather_rep1.perturb_start);
  // Repetition 0 is the nominal run whatever drive.perturb says.
  const EpisodeSpec weather_rep0 = episode_spec(dir_->path(), weather, run("baseline", 0));
  EXPECT_FALSE(weather_rep0.weather || weather_rep0.perturb_start || weather_rep0.perturb_style);
}

TEST_F(ReportEpisodes, AMissingModelIsAnInputErrorNamingIt) {
  Json r = *results_;
  r["offline"][1]["file"] = "models/elsewhere.onnx";
  try {
    (void)episode_spec(dir_->path(), r, run("int8", 0));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'int8'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("elsewhere.onnx"), std::string::npos);
  }
}

TEST_F(ReportEpisodes, ReplayGivesTheStoredRunByteForByte) {
  for (const char* model : {"expert", "baseline", "int8"}) {
    const EpisodeSpec spec = episode_spec(dir_->path(), *results_, run(model, 0));
    const Replay r = replay(spec);
    EXPECT_TRUE(r.matches) << model << ": " << r.difference;
    EXPECT_EQ(sim::trajectory_csv(r.result.trajectory),
              sim::trajectory_csv(sim::read_trajectory(
                  dir_->path() / run(model, 0)["trajectory"].get<std::string>())));
  }
}

TEST_F(ReportEpisodes, ReplayNamesWhatDiffers) {
  Json changed = run("baseline", 0);
  changed["metrics"]["driving_score"] = 99.5;
  const Replay r = replay(episode_spec(dir_->path(), *results_, changed));
  EXPECT_FALSE(r.matches);
  EXPECT_EQ(r.difference.rfind("driving_score: 99.5 -> ", 0), 0u) << r.difference;
}

TEST_F(ReportEpisodes, ClipFilmsItsWindowSmallAndReadable) {
  testing::TempDir work("report-clip");
  const EpisodeSpec spec = episode_spec(dir_->path(), *results_, run("expert", 0));
  const Clip clip = record_clip(spec, 1.0, 3.0, 320, work.path() / "clip");
  EXPECT_EQ(clip.frames, 40);  // 2 s at the camera's 20 Hz
  EXPECT_EQ(clip.width, 320);
  EXPECT_EQ(clip.height, 240);
  EXPECT_TRUE(clip.mime == "video/mp4" || clip.mime == "video/webm") << clip.mime;
  EXPECT_GT(clip.bytes.size(), 1000u);
  EXPECT_LT(clip.bytes.size(), 200'000u);  // small enough to inline
  // The bytes are a video OpenCV reads back at the clip's size.
  const auto file =
      work.path() / (std::string("back") + (clip.mime == "video/mp4" ? ".mp4" : ".webm"));
  write_file_atomic(file, clip.bytes);
  cv::VideoCapture in(file.string(), cv::CAP_FFMPEG);
  ASSERT_TRUE(in.isOpened());
  const int fourcc = static_cast<int>(in.get(cv::CAP_PROP_FOURCC));
  const std::string codec{static_cast<char>(fourcc & 0xff), static_cast<char>((fourcc >> 8) & 0xff),
                          static_cast<char>((fourcc >> 16) & 0xff),
                          static_cast<char>((fourcc >> 24) & 0xff)};
  EXPECT_TRUE(codec == "avc1" || codec == "h264" || codec == "VP80") << codec;  // never mp4v
  cv::Mat frame;
  int frames = 0;
  while (in.read(frame)) {
    EXPECT_EQ(frame.cols, 320);
    EXPECT_EQ(frame.rows, 240);
    ++frames;
  }
  EXPECT_EQ(frames, 40);
}

TEST(ReportClipWindow, CentresOnTheLargestDeviationInsideTheRun) {
  std::vector<sim::TrajectorySample> t(400);  // 20 s
  for (size_t i = 0; i < t.size(); ++i) t[i].t_s = 0.05 * static_cast<double>(i);
  t[200].lateral_m = -1.5;  // at 10 s
  EXPECT_NEAR(clip_start(t, 4.0), 8.0, 1e-9);
  t[200].lateral_m = 0;
  t[20].lateral_m = 2;  // at 1 s: the window starts at the run's start
  EXPECT_NEAR(clip_start(t, 4.0), 0.0, 1e-9);
  t[20].lateral_m = 0;
  t[399].lateral_m = 2;  // at the end: the window ends there
  EXPECT_NEAR(clip_start(t, 4.0), 15.95, 1e-9);
  EXPECT_EQ(clip_start({}, 4.0), 0.0);
}

}  // namespace
}  // namespace pitlane::report
