#include "pitlane/sim/episode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "sim_test_util.h"

namespace pitlane::sim {
namespace {

// A brain whose commands and reported inference time are scripted.
class ScriptedBrain : public sim::Brain {
 public:
  explicit ScriptedBrain(std::function<Command(int)> script, double inference_ms = 1.0)
      : script_(std::move(script)), ms_(inference_ms) {}
  std::string name() const override { return "scripted"; }
  void reset() override { calls_ = 0; }
  Command act(const cv::Mat& frame) override {
    EXPECT_EQ(frame.rows, 480);
    return script_(calls_++);
  }
  double last_inference_ms() const override { return ms_; }
  int calls() const { return calls_; }

 private:
  std::function<Command(int)> script_;
  double ms_;
  int calls_ = 0;
};

// Records the pose at each iteration.
class PoseLog : public EpisodeObserver {
 public:
  bool on_iteration(const IterationView& v) override {
    times.push_back(v.t_us);
    poses.push_back(v.pose);
    return true;
  }
  std::vector<int64_t> times;
  std::vector<Pose2> poses;
};

class EpisodeTest : public ::testing::Test {
 protected:
  track::Circuit circuit_ = testing::stadium(200.0, 20.0);
  Renderer renderer_{circuit_};
};

TEST_F(EpisodeTest, SlowBrainLowersTheControlRate) {
  // Iterations start every max(50 ms, latency): 20 Hz below 50 ms, 1 / latency above.
  for (double latency_ms : {5.0, 50.0, 124.0, 300.0}) {
    ScriptedBrain brain([](int) { return Command{2.0, 0.0}; });
    EpisodeConfig config;
    config.timing = TimingModel::parse("fixed:" + std::to_string(latency_ms));
    config.timeout_s = 6.0;
    PoseLog log;
    const EpisodeResult r = run_episode(circuit_, renderer_, brain, config, &log);
    const double period_s = std::max(0.05, latency_ms / 1000.0);
    EXPECT_NEAR(r.metrics.brain_hz, 1.0 / period_s, 0.3) << latency_ms;
    for (size_t i = 1; i < log.times.size(); ++i) {
      ASSERT_EQ(log.times[i] - log.times[i - 1], static_cast<int64_t>(period_s * 1e6 + 0.5));
    }
    EXPECT_NEAR(r.metrics.inference_ms_p50, latency_ms, 1e-9);
  }
}

TEST_F(EpisodeTest, MeasuredTimingScalesTheBrainsOwnTime) {
  ScriptedBrain brain([](int) { return Command{2.0, 0.0}; }, /*inference_ms=*/4.0);
  EpisodeConfig config;
  config.timing = TimingModel::parse("measured x30");  // 120 ms per iteration
  config.timeout_s = 6.0;
  const EpisodeResult r = run_episode(circuit_, renderer_, brain, config);
  EXPECT_NEAR(r.metrics.brain_hz, 1.0 / 0.12, 0.3);
  EXPECT_NEAR(r.metrics.inference_ms_p50, 120.0, 1e-9);
}

TEST_F(EpisodeTest, CommandsTakeEffectAfterTheLatency) {
  // v = 4 m/s from the first iteration, applied 200 ms later: after 1 s of simulated time the car
  // has covered 0.8 s x 4 m/s.
  ScriptedBrain brain([](int) { return Command{4.0, 0.0}; });
  EpisodeConfig config;
  config.timing = TimingModel::parse("fixed:200");
  PoseLog log;
  config.timeout_s = 1.0001;
  run_episode(circuit_, renderer_, brain, config, &log);
  ASSERT_GE(log.poses.size(), 5u);
  // Iterations at 0, 200, 400, 600, 800 ms; the pose logged at 800 ms has moved 0.6 s x 4 m/s.
  EXPECT_EQ(log.times[4], 800'000);
  EXPECT_NEAR(distance(log.poses[4].position, log.poses[0].position), 2.4, 1e-6);
}

TEST_F(EpisodeTest, WallStopsTheCarAndCountsOnce) {
  // Steer hard left: the car runs into the left wall, stays there and is found trapped.
  ScriptedBrain brain([](int) { return Command{3.0, 1.0}; });
  EpisodeConfig config;
  const EpisodeResult r = run_episode(circuit_, renderer_, brain, config);
  EXPECT_EQ(r.metrics.wall_contacts, 1);
  EXPECT_TRUE(r.metrics.trapped);
  EXPECT_EQ(r.metrics.termination, "trapped");
  EXPECT_LT(r.metrics.sim_time_s, 20.5);
  EXPECT_EQ(r.metrics.completed_laps, 0);
}

TEST_F(EpisodeTest, TimeoutEndsTheRun) {
  ScriptedBrain brain([](int) { return Command{1.0, 0.0}; });
  EpisodeConfig config;
  config.timeout_s = 3.0;
  const EpisodeResult r = run_episode(circuit_, renderer_, brain, config);
  EXPECT_TRUE(r.metrics.timed_out);
  EXPECT_EQ(r.metrics.termination, "timeout");
  EXPECT_NEAR(r.metrics.sim_time_s, 3.0, 1e-9);
  EXPECT_NEAR(r.metrics.completed_fraction, 2.95 / circuit_.length(), 1e-3);
}

TEST_F(EpisodeTest, ObserverEndsTheRunAtItsIteration) {
  // An observer that returns false ends the run at once: the car takes no further step, the
  // iteration it saw is counted, and the run is "stopped" (neither trapped nor timed out).
  class StopAt : public EpisodeObserver {
   public:
    bool on_iteration(const IterationView& v) override { return v.iteration < 9; }
  } stop;
  ScriptedBrain brain([](int) { return Command{2.0, 0.0}; });
  const EpisodeResult r = run_episode(circuit_, renderer_, brain, EpisodeConfig{}, &stop);
  EXPECT_EQ(brain.calls(), 10);
  EXPECT_EQ(r.metrics.brain_iterations, 10);
  EXPECT_NEAR(r.metrics.sim_time_s, 0.45, 1e-12);  // iteration 9 starts at 9 x 50 ms
  EXPECT_EQ(r.metrics.termination, "stopped");
  EXPECT_FALSE(r.metrics.trapped);
  EXPECT_FALSE(r.metrics.timed_out);
}

TEST_F(EpisodeTest, SameConfigSameResults) {
  auto script = [](int i) { return Command{3.0 + 0.01 * (i % 7), 0.02 * ((i % 5) - 2)}; };
  ScriptedBrain a(script), b(script);
  EpisodeConfig config;
  config.random_start = true;
  config.randomize_style = true;
  config.seed = 42;
  config.timeout_s = 8.0;
  config.disturbance.mean_interval_s = 2.0;
  const EpisodeResult ra = run_episode(circuit_, renderer_, a, config);
  const EpisodeResult rb = run_episode(circuit_, renderer_, b, config);
  EXPECT_EQ(to_json(ra.metrics).dump(), to_json(rb.metrics).dump());
  EXPECT_EQ(ra.start, rb.start);
  config.seed = 43;
  const EpisodeResult rc = run_episode(circuit_, renderer_, a, config);
  EXPECT_NE(ra.start, rc.start);
}

}  // namespace
}  // namespace pitlane::sim
