// The auto recipe's search on fake hooks: a four-layer "model" whose third layer, alone in int8,
// makes the car leave the road. The search must rank that layer first, return it to fp32 and
// stop there; give up with fp32 when int8 is not faster; refuse a budget too small to decide.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "pitlane/autotune/search.h"
#include "pitlane/core/error.h"

namespace pitlane::autotune {
namespace {

constexpr int kLayers = 4;
constexpr int kFragile = 2;  // the layer that breaks driving in int8

SearchPlan plan_of(int episodes, int budget) {
  SearchPlan plan;
  for (int i = 0; i < kLayers; ++i) plan.layers.push_back("conv" + std::to_string(i));
  for (int e = 0; e < episodes; ++e) {
    plan.episodes.push_back({.circuit = e % 2 ? "montmelo" : "simple_circuit",
                             .direction = e % 4 < 2 ? "cw" : "ccw",
                             .repetition = e / 2,
                             .seed = static_cast<uint64_t>(100 + e)});
  }
  plan.sensitivity_episodes = 2;
  plan.budget_laps = budget;
  return plan;
}

// Scores with a little per-episode variation (the same for every assignment: paired), a large
// drop when the fragile layer is int8 and a little noise per other int8 layer.
struct FakeModel {
  bool int8_faster = true;
  int drives = 0;  // (assignment, episode) pairs driven

  SearchHooks hooks() {
    SearchHooks h;
    h.drive = [this](const Assignment& a, const std::vector<int>& episodes) {
      std::vector<EpisodeResult> out;
      for (int e : episodes) {
        ++drives;
        const bool broken = a[kFragile] == Precision::int8;
        double score = 90.0 + 3.0 * std::sin(e);
        for (int i = 0; i < kLayers; ++i) {
          // Harmless layers: noise that averages out over the episodes.
          if (i != kFragile && a[i] == Precision::int8) score += 0.05 * (i + 1) * (e % 2 ? 1 : -1);
        }
        if (broken) score -= 60.0;
        out.push_back({.score = score,
                       .completed = !broken,
                       .completed_fraction = broken ? 0.4 : 1.0,
                       .deviation_mean_m = broken ? 2.5 : 0.3});
      }
      return out;
    };
    h.offline = [](const Assignment& a) {
      OutputError err;
      double noise = 0.0;
      for (int i = 0; i < kLayers; ++i) {
        if (a[i] == Precision::int8) noise += i == kFragile ? 1e-2 : 1e-4 * (i + 1);
      }
      err.mse = noise;
      err.steering_mse = noise;
      err.sqnr_db = noise > 0 ? -10.0 * std::log10(noise) : 200.0;
      return err;
    };
    h.latency = [this](const Assignment& a) {
      int int8 = 0;
      for (Precision p : a) int8 += p == Precision::int8;
      const double fp32 = 1000.0;
      return LatencyComparison{.median_us = int8_faster ? fp32 - 150.0 * int8 : fp32,
                               .fp32_median_us = fp32,
                               .p90_us = fp32};
    };
    return h;
  }
};

TEST(AutotuneSearch, ReturnsTheLayerThatBreaksDrivingToFp32AndKeepsTheRestInt8) {
  const SearchPlan plan = plan_of(8, 200);
  FakeModel model;
  const SearchResult r = search(plan, model.hooks());
  EXPECT_EQ(r.status, "accepted") << r.summary;
  ASSERT_EQ(r.chosen.size(), static_cast<size_t>(kLayers));
  for (int i = 0; i < kLayers; ++i) {
    EXPECT_EQ(r.chosen[i], i == kFragile ? Precision::fp32 : Precision::int8) << i;
  }
  EXPECT_EQ(assignment_code(r.chosen), "IIFI");
  // The fragile layer ranks first, by the completions it loses in closed loop.
  ASSERT_EQ(r.layers.size(), static_cast<size_t>(kLayers));
  EXPECT_EQ(r.layers[kFragile].rank, 1);
  EXPECT_EQ(r.layers[kFragile].completions_lost, plan.sensitivity_episodes);
  EXPECT_GT(r.layers[kFragile].score_drop, 50.0);
  // Step 0 (every layer int8) is worse; step 1 returns the fragile layer and is accepted.
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_TRUE(r.steps[0].worse);
  EXPECT_FALSE(r.steps[0].accepted);
  EXPECT_EQ(r.steps[0].completions_lost, 8);
  EXPECT_EQ(r.steps[1].returned_layer, "conv2");
  EXPECT_TRUE(r.steps[1].accepted);
  EXPECT_FALSE(r.steps[1].worse);
  EXPECT_TRUE(r.steps[1].faster);
  // fp32 on 8 episodes, each layer on 2, then two candidates on 8: every drive paid for once.
  EXPECT_EQ(r.laps_used, 8 + kLayers * 2 + 2 * 8);
  EXPECT_EQ(model.drives, r.laps_used);
  EXPECT_LE(r.laps_used, plan.budget_laps);
  // The offline error ranks the fragile layer first too: a positive rank correlation with the
  // closed-loop score drop.
  bool found = false;
  for (const Correlation& c : r.correlations) {
    if (c.offline == "output_mse" && c.closed_loop == "score_drop") {
      found = true;
      ASSERT_TRUE(c.spearman.has_value());
      EXPECT_GT(*c.spearman, 0.5);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(r.summary.empty());
}

TEST(AutotuneSearch, ChoosesFp32WhenInt8IsNotFaster) {
  FakeModel model;
  model.int8_faster = false;
  const SearchResult r = search(plan_of(4, 200), model.hooks());
  EXPECT_EQ(r.status, "not_faster") << r.summary;
  EXPECT_EQ(assignment_code(r.chosen), "FFFF");
}

TEST(AutotuneSearch, RefusesABudgetBelowWhatTheFirstStepsNeed) {
  const SearchPlan plan = plan_of(8, 10);
  EXPECT_GT(required_laps(plan), 10);
  FakeModel model;
  EXPECT_THROW((void)search(plan, model.hooks()), InputError);
  EXPECT_EQ(model.drives, 0);  // refused before any drive
  SearchPlan no_layers = plan_of(8, 200);
  no_layers.layers.clear();
  EXPECT_THROW(check_plan(no_layers), InputError);
  SearchPlan too_many = plan_of(2, 200);
  too_many.sensitivity_episodes = 3;
  EXPECT_THROW(check_plan(too_many), InputError);
}

TEST(AutotuneSearch, RanksAndSpearmanMatchAHandComputation) {
  EXPECT_EQ(average_ranks({10, 20, 20, 5}), (std::vector<double>{2, 3.5, 3.5, 1}));
  EXPECT_DOUBLE_EQ(*spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(*spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // d = ranks differ by (0, 1, -1, 0): 1 - 6 * 2 / (4 * 15) = 0.8
  EXPECT_NEAR(*spearman({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
  EXPECT_FALSE(spearman({1, 1, 1}, {1, 2, 3}).has_value());
  EXPECT_FALSE(spearman({1}, {2}).has_value());
}

}  // namespace
}  // namespace pitlane::autotune
