#include "pitlane/report/pareto.h"

#include <gtest/gtest.h>

namespace pitlane::report {
namespace {

TEST(ParetoFront, KeepsOnlyPointsNoOtherBeatsOnEveryCount) {
  const std::vector<ParetoPoint> points = {
      {.latency_ms = 5, .driving_score = 90, .bytes = 6e6},      // fastest: front
      {.latency_ms = 10, .driving_score = 95, .bytes = 1.6e6},   // best and smallest: front
      {.latency_ms = 10, .driving_score = 80, .bytes = 6e6},     // beaten by the first
      {.latency_ms = 150, .driving_score = 95, .bytes = 1.6e6},  // beaten by the second
  };
  EXPECT_EQ(pareto_front(points), (std::vector<bool>{true, true, false, false}));
}

TEST(ParetoFront, EqualPointsAreAllOnTheFront) {
  const ParetoPoint p{.latency_ms = 10, .driving_score = 50, .bytes = 1e6};
  EXPECT_FALSE(dominates(p, p));
  EXPECT_EQ(pareto_front(std::vector<ParetoPoint>{p, p}), (std::vector<bool>{true, true}));
}

TEST(ParetoFront, ATradeOffOnSizeAloneKeepsBoth) {
  // Same latency and score: the smaller model dominates; a better score keeps the larger one.
  const ParetoPoint small{.latency_ms = 10, .driving_score = 50, .bytes = 1e6};
  const ParetoPoint large{.latency_ms = 10, .driving_score = 50, .bytes = 6e6};
  const ParetoPoint large_better{.latency_ms = 10, .driving_score = 60, .bytes = 6e6};
  EXPECT_TRUE(dominates(small, large));
  EXPECT_EQ(pareto_front(std::vector<ParetoPoint>{small, large, large_better}),
            (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(pareto_front(std::vector<ParetoPoint>{}).empty());
}

}  // namespace
}  // namespace pitlane::report
