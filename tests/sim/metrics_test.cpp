#include "pitlane/sim/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "sim_test_util.h"

namespace pitlane::sim {
namespace {

// Feeds the accumulator a car that follows the centre line at `lateral` m, at `speed` m/s.
RunMetrics follow(const track::Circuit& c, double lateral, double speed, double seconds, int laps) {
  const double s0 = c.start_s();
  MetricsAccumulator acc(c, laps, c.pose_at(s0, lateral).position);
  const int64_t dt = 1000;
  int64_t t = 0;
  while (t < static_cast<int64_t>(seconds * 1e6)) {
    t += dt;
    const double s = s0 + speed * static_cast<double>(t) * 1e-6;
    if (acc.on_step(c.pose_at(s, lateral), t, dt) >= laps) break;
    if (t % 50'000 == 0) acc.on_brain({speed, 0.0}, 5.0);
  }
  return acc.finish(t);
}

TEST(Metrics, PerfectLapOnTheLine) {
  const track::Circuit c = testing::stadium(100.0, 20.0);
  const RunMetrics m = follow(c, 0.0, 5.0, 1e9, 1);
  EXPECT_EQ(m.completed_laps, 1);
  ASSERT_EQ(m.lap_times_s.size(), 1u);
  EXPECT_NEAR(m.lap_times_s[0], c.length() / 5.0, 0.002);
  EXPECT_NEAR(m.completed_fraction, 1.0, 1e-9);
  EXPECT_NEAR(m.completed_distance_m, c.length(), 0.3);  // 20 Hz odometry cuts no corner here
  EXPECT_NEAR(m.average_speed_mps, 5.0, 0.01);
  EXPECT_LT(m.deviation_max_m, 0.005);
  EXPECT_NEAR(m.bm_deviation_score, 1.0, 0.05);  // 1000^0
  EXPECT_EQ(m.off_road_s, 0.0);
  EXPECT_EQ(m.suddenness, 0.0);
  EXPECT_NEAR(m.brain_hz, 20.0, 0.1);
  EXPECT_DOUBLE_EQ(m.inference_ms_p50, 5.0);
}

TEST(Metrics, OffsetPathDeviatesByTheOffset) {
  const track::Circuit c = testing::stadium(100.0, 20.0);
  const RunMetrics m = follow(c, 0.5, 5.0, 20.0, 1);
  EXPECT_NEAR(m.deviation_mean_m, 0.5, 0.005);
  EXPECT_NEAR(m.deviation_p95_m, 0.5, 0.005);
  // Each ideal point is 0.5 m from the path: 1000^0.5 = 31.6.
  EXPECT_NEAR(m.bm_deviation_score, std::pow(1000.0, 0.5), 1.0);
  EXPECT_EQ(m.completed_laps, 0);
  EXPECT_NEAR(m.completed_fraction, 100.0 / c.length(), 0.01);
}

TEST(Metrics, OffRoadTimeCounts) {
  const track::Circuit c = testing::stadium(100.0, 20.0);
  const RunMetrics m = follow(c, 1.75, 5.0, 4.0, 1);  // beyond the 1.7 m asphalt edge
  EXPECT_NEAR(m.off_road_s, 4.0, 0.01);
}

TEST(Metrics, SuddennessOfAlternatingCommands) {
  const track::Circuit c = testing::stadium();
  MetricsAccumulator acc(c, 1, c.start_pose().position);
  acc.on_brain({6.5, 0.0}, 5.0);
  acc.on_brain({24.0, 0.0}, 5.0);  // v' jumps 0 -> 1
  acc.on_brain({24.0, 7.1}, 5.0);  // w' jumps 0.5 -> 1
  EXPECT_NEAR(acc.finish(1000).suddenness, (1.0 + 0.5) / 2.0, 1e-12);
}

TEST(Metrics, JsonHasEveryKeyTheStudyReads) {
  const nlohmann::ordered_json j = to_json(RunMetrics{});
  for (const char* key : {"circuit", "direction", "brain", "seed", "completed_laps",
                          "completed_fraction", "completed_distance_m", "lap_times_s",
                          "average_speed_mps", "deviation_mean_m", "deviation_p95_m",
                          "deviation_max_m", "bm_deviation_score", "wall_contacts", "off_road_s",
                          "trapped", "timed_out", "brain_hz", "inference_ms_p50",
                          "inference_ms_p99", "suddenness"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

}  // namespace
}  // namespace pitlane::sim
