// Trajectories: sampled at every camera frame with the car's state, identical whether recorded or
// not, and written as deterministic gzip CSV that reads back to the written precision.
#include "pitlane/sim/trajectory.h"

#include <gtest/gtest.h>

#include <cmath>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/episode.h"
#include "sim_test_util.h"

namespace fs = std::filesystem;

namespace pitlane::sim {
namespace {

// Drives straight ahead at 5 m/s, turning gently; answers take 30 ms (fixed timing).
class SteadyBrain : public sim::Brain {
 public:
  std::string name() const override { return "steady"; }
  Command act(const cv::Mat&) override { return {5.0, -0.05}; }
  double last_inference_ms() const override { return 30.0; }
};

EpisodeResult drive(bool record) {
  const track::Circuit circuit = testing::stadium(100.0, 20.0);
  Renderer renderer(circuit);
  SteadyBrain brain;
  EpisodeConfig config;
  config.timing = TimingModel::parse("fixed:30");
  config.timeout_s = 3.0;
  config.record_trajectory = record;
  return run_episode(circuit, renderer, brain, config);
}

TEST(Trajectory, OneSamplePerCameraFrameWithTheCarsState) {
  const EpisodeResult r = drive(true);
  const auto& tr = r.trajectory;
  ASSERT_EQ(tr.size(), static_cast<size_t>(std::lround(r.metrics.sim_time_s / 0.05)));
  const track::Circuit circuit = testing::stadium(100.0, 20.0);
  for (size_t i = 0; i < tr.size(); ++i) {
    EXPECT_NEAR(tr[i].t_s, 0.05 * static_cast<double>(i), 1e-12);
    EXPECT_NEAR(tr[i].lateral_m, circuit.project({tr[i].x_m, tr[i].y_m}).lateral, 1e-9);
  }
  // At rest before the first answer takes effect (30 ms after t = 0), then the command.
  EXPECT_EQ(tr[0].v_mps, 0.0);
  EXPECT_EQ(tr[0].v_cmd_mps, 0.0);  // sampled before the first iteration
  EXPECT_EQ(tr[1].v_cmd_mps, 5.0);
  EXPECT_EQ(tr[1].v_mps, 5.0);
  EXPECT_EQ(tr[1].latency_ms, 30.0);
  EXPECT_EQ(tr[10].w_radps, -0.05);
  // The car moves 0.25 m per sample along the straight once going.
  EXPECT_NEAR(std::hypot(tr[20].x_m - tr[19].x_m, tr[20].y_m - tr[19].y_m), 0.25, 1e-3);
  EXPECT_NEAR(tr[20].s_m - tr[19].s_m, 0.25, 1e-2);
}

TEST(Trajectory, RecordingChangesNothingElse) {
  const EpisodeResult with = drive(true), without = drive(false);
  EXPECT_TRUE(without.trajectory.empty());
  EXPECT_EQ(to_json(with.metrics).dump(), to_json(without.metrics).dump());
}

TEST(Trajectory, GzipCsvIsDeterministicAndReadsBack) {
  pitlane::testing::TempDir tmp("trajectory");
  const EpisodeResult r = drive(true);
  write_trajectory(tmp.path() / "a.csv.gz", r.trajectory);
  write_trajectory(tmp.path() / "b.csv.gz", r.trajectory);
  EXPECT_EQ(read_file(tmp.path() / "a.csv.gz"), read_file(tmp.path() / "b.csv.gz"));
  const std::string bytes = read_file(tmp.path() / "a.csv.gz");
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(4, 4), std::string(4, '\0'));  // gzip MTIME: no timestamp
  const std::vector<TrajectorySample> back = read_trajectory(tmp.path() / "a.csv.gz");
  ASSERT_EQ(back.size(), r.trajectory.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_NEAR(back[i].x_m, r.trajectory[i].x_m, 5e-7);
    EXPECT_NEAR(back[i].lateral_m, r.trajectory[i].lateral_m, 5e-7);
    EXPECT_NEAR(back[i].latency_ms, r.trajectory[i].latency_ms, 5e-4);
  }
  EXPECT_EQ(trajectory_csv(r.trajectory).substr(0, trajectory_csv_header().size()),
            trajectory_csv_header());
  // Not a trajectory: named errors.
  write_file_atomic(tmp.path() / "bad.csv.gz", "not gzip");
  EXPECT_THROW(read_trajectory(tmp.path() / "bad.csv.gz"), InputError);
}

}  // namespace
}  // namespace pitlane::sim
