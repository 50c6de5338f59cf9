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

// pitlane-ds/1 on hand-made runs: the formula of docs/simulator.md, factor by factor.
TEST(DrivingScore, HandMadeRuns) {
  RunMetrics clean;
  clean.completed_fraction = 1.0;
  clean.sim_time_s = 80.0;
  EXPECT_DOUBLE_EQ(driving_score(clean).score, 100.0);

  RunMetrics half = clean;  // half the route, 8 of 80 s off the asphalt, two wall contacts
  half.completed_fraction = 0.5;
  half.off_road_s = 8.0;
  half.wall_contacts = 2;
  const DrivingScore d = driving_score(half);
  EXPECT_DOUBLE_EQ(d.route_completion, 0.5);
  EXPECT_DOUBLE_EQ(d.on_road_share, 0.9);
  EXPECT_DOUBLE_EQ(d.penalty, 0.65 * 0.65);
  EXPECT_NEAR(d.score, 100 * 0.5 * 0.9 * 0.4225, 1e-12);  // 19.0125

  RunMetrics stuck = clean;  // trapped at 30% after a wall contact
  stuck.completed_fraction = 0.3;
  stuck.wall_contacts = 1;
  stuck.trapped = true;
  EXPECT_NEAR(driving_score(stuck).score, 100 * 0.3 * 0.65 * 0.7, 1e-12);  // 13.65

  RunMetrics slow = clean;  // timed out at 90%
  slow.completed_fraction = 0.9;
  slow.timed_out = true;
  EXPECT_NEAR(driving_score(slow).score, 63.0, 1e-12);

  RunMetrics nowhere;  // no time driven: nothing completed, no division by zero
  EXPECT_EQ(driving_score(nowhere).score, 0.0);
  EXPECT_EQ(driving_score(nowhere).on_road_share, 1.0);

  // Infractions per km: (2 contacts + 3 off-road entries) over 2.5 km driven.
  RunMetrics m = half;
  m.completed_distance_m = 2500.0;
  m.off_road_entries = 3;
  score_run(m);
  EXPECT_DOUBLE_EQ(m.infractions_per_km, 2.0);
  EXPECT_DOUBLE_EQ(m.driving_score, d.score);
  EXPECT_EQ(to_json(m)["driving_score_version"], "pitlane-ds/1");
}

// Leaving the road three times counts three entries, however long each lasts.
TEST(Metrics, OffRoadEntriesCountTransitions) {
  const track::Circuit c = testing::stadium(100.0, 20.0);
  MetricsAccumulator acc(c, 1, c.start_pose().position);
  const double s0 = c.start_s();
  int64_t t = 0;
  for (int i = 0; i < 3000; ++i) {
    t += 1000;
    const bool off = (i / 500) % 2 == 1;  // 0.5 s on, 0.5 s off, ...
    acc.on_step(c.pose_at(s0 + 5e-3 * i, off ? 2.0 : 0.0), t, 1000);
  }
  const RunMetrics m = acc.finish(t);
  EXPECT_EQ(m.off_road_entries, 3);
  EXPECT_NEAR(m.off_road_s, 1.5, 1e-9);
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
  for (const char* key : {"circuit",
                          "direction",
                          "brain",
                          "seed",
                          "completed_laps",
                          "completed_fraction",
                          "completed_distance_m",
                          "lap_times_s",
                          "average_speed_mps",
                          "deviation_mean_m",
                          "deviation_p95_m",
                          "deviation_max_m",
                          "bm_deviation_score",
                          "wall_contacts",
                          "off_road_s",
                          "trapped",
                          "timed_out",
                          "brain_hz",
                          "inference_ms_p50",
                          "driving_score",
                          "driving_score_version",
                          "infractions_per_km",
                          "inference_ms_p99",
                          "suddenness"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

}  // namespace
}  // namespace pitlane::sim
