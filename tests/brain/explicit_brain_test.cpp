#include "pitlane/brain/explicit_brain.h"

#include <gtest/gtest.h>

#include "pitlane/sim/episode.h"
#include "../sim/sim_test_util.h"

namespace pitlane::brain {
namespace {

// The acceptance bar for the expert: a lap of every circuit in both directions with timing
// fixed:5, no wall contact, mean deviation at most 0.3 m; on simple_circuit at least 6 m/s.
class ExpertLap : public ::testing::TestWithParam<std::tuple<std::string, track::Direction>> {};

TEST_P(ExpertLap, CompletesCleanly) {
  const auto& [name, direction] = GetParam();
  const track::Circuit circuit = track::load_circuit(name, direction);
  sim::Renderer renderer(circuit);
  ExplicitBrain expert;
  sim::EpisodeConfig config;
  config.timing = sim::TimingModel::parse("fixed:5");
  const sim::EpisodeResult r = sim::run_episode(circuit, renderer, expert, config);
  EXPECT_EQ(r.metrics.termination, "completed");
  EXPECT_EQ(r.metrics.completed_laps, 1);
  EXPECT_EQ(r.metrics.wall_contacts, 0);
  EXPECT_LE(r.metrics.deviation_mean_m, 0.3);
  EXPECT_EQ(r.metrics.off_road_s, 0.0);
  if (name == "simple_circuit") EXPECT_GE(r.metrics.average_speed_mps, 6.0);
}

INSTANTIATE_TEST_SUITE_P(
    AllCircuits, ExpertLap,
    ::testing::Combine(::testing::Values("simple_circuit", "many_curves", "montmelo", "montreal",
                                         "nurburgring"),
                       ::testing::Values(track::Direction::kClockwise,
                                         track::Direction::kCounterClockwise)),
    [](const auto& info) {
      return std::get<0>(info.param) +
             (std::get<1>(info.param) == track::Direction::kClockwise ? "_cw" : "_ccw");
    });

TEST(ExplicitBrain, SteersTowardsTheLine) {
  // Car left of the line, heading along the road: the line is to the right, so w < 0.
  const track::Circuit circuit = sim::testing::stadium(200.0, 20.0);
  sim::Renderer renderer(circuit);
  cv::Mat frame;
  const double s = 100.0;  // the middle of a straight
  ExplicitBrain expert;
  renderer.render(circuit.pose_at(s, 0.8), {}, 0, frame);
  EXPECT_LT(expert.act(frame).w, -0.2);
  expert.reset();
  renderer.render(circuit.pose_at(s, -0.8), {}, 0, frame);
  EXPECT_GT(expert.act(frame).w, 0.2);
  expert.reset();
  renderer.render(circuit.pose_at(s, 0.0), {}, 0, frame);
  const sim::Command straight = expert.act(frame);
  EXPECT_LT(std::abs(straight.w), 0.1);
  EXPECT_GT(straight.v, ExpertParams{}.v_curve) << "faster on a straight";
  EXPECT_GE(expert.last_inference_ms(), 0.0);
}

TEST(ExplicitBrain, SearchesWhenTheLineIsGone) {
  const cv::Mat grey(480, 640, CV_8UC3, cv::Scalar(90, 90, 90));
  ExplicitBrain expert;
  const sim::Command c = expert.act(grey);
  EXPECT_DOUBLE_EQ(c.v, ExpertParams{}.v_search);
}

}  // namespace
}  // namespace pitlane::brain
