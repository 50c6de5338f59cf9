// Pruning math against hand computations: TFMOT's schedules, and masks that remove exactly the
// smallest units (single weights, blocks, N:M groups), per layer or over all layers.
#include "pitlane/train/pruning.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "pitlane/core/error.h"

namespace pitlane::train {
namespace {

using Kind = SparsitySchedule::Kind;

TEST(SparsitySchedule, PolynomialDecayFollowsTfmotsFormula) {
  const SparsitySchedule s{.kind = Kind::polynomial,
                           .initial = 0.5,
                           .target = 0.8,
                           .begin_step = 10,
                           .end_step = 110,
                           .frequency = 25,
                           .power = 3.0};
  EXPECT_EQ(s.sparsity_at(5, 200), 0.0);  // before begin: dense
  EXPECT_DOUBLE_EQ(s.sparsity_at(10, 200), 0.5);
  // Halfway: 0.8 + (0.5 - 0.8) * 0.5^3 = 0.7625.
  EXPECT_DOUBLE_EQ(s.sparsity_at(60, 200), 0.7625);
  EXPECT_DOUBLE_EQ(s.sparsity_at(110, 200), 0.8);
  EXPECT_DOUBLE_EQ(s.sparsity_at(150, 200), 0.8);
  EXPECT_FALSE(s.updates_at(9, 200));
  EXPECT_TRUE(s.updates_at(10, 200));
  EXPECT_FALSE(s.updates_at(11, 200));
  EXPECT_TRUE(s.updates_at(35, 200));
  EXPECT_TRUE(s.updates_at(110, 200));  // the end step always updates
  EXPECT_FALSE(s.updates_at(135, 200));
}

TEST(SparsitySchedule, EndStepDefaultsToThreeQuartersOfTheRun) {
  const SparsitySchedule s{
      .kind = Kind::polynomial, .initial = 0.2, .target = 0.6, .frequency = 1000};
  EXPECT_EQ(s.end(40), 30);
  EXPECT_DOUBLE_EQ(s.sparsity_at(0, 40), 0.2);
  EXPECT_DOUBLE_EQ(s.sparsity_at(15, 40), 0.6 - 0.4 * 0.125);  // halfway: (1 - 0.5)^3
  EXPECT_DOUBLE_EQ(s.sparsity_at(30, 40), 0.6);
  EXPECT_DOUBLE_EQ(s.sparsity_at(40, 40), 0.6);
  EXPECT_TRUE(s.updates_at(30, 40));
  EXPECT_FALSE(s.updates_at(29, 40));
  EXPECT_FALSE(s.updates_at(40, 40));
}

TEST(SparsitySchedule, ConstantPrunesToTheTargetFromBeginStep) {
  const SparsitySchedule s{.kind = Kind::constant, .target = 0.5, .begin_step = 3, .frequency = 4};
  EXPECT_EQ(s.sparsity_at(2, 20), 0.0);
  EXPECT_EQ(s.sparsity_at(3, 20), 0.5);
  EXPECT_EQ(s.sparsity_at(20, 20), 0.5);
  EXPECT_TRUE(s.updates_at(3, 20));
  EXPECT_TRUE(s.updates_at(7, 20));
  EXPECT_FALSE(s.updates_at(8, 20));
}

size_t zeros(const std::vector<uint8_t>& m) {
  return std::count(m.begin(), m.end(), 0);
}

TEST(MagnitudeMasks, UnstructuredPrunesTheSmallestMagnitudesPerLayer) {
  const std::vector<float> a = {0.5f, -0.1f, 0.3f, -0.7f, 0.05f, 0.2f};  // 2 x 3
  const std::vector<float> b = {10.0f, -20.0f, 30.0f, 40.0f};            // 1 x 4
  const WeightMatrix layers[] = {{a, 2, 3}, {b, 1, 4}};
  const auto masks = magnitude_masks(layers, 0.5, {.schedule = {}, .global = false});
  EXPECT_EQ(masks[0], (std::vector<uint8_t>{1, 0, 1, 1, 0, 0}));  // 0.05, 0.1, 0.2 go
  EXPECT_EQ(masks[1], (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(MagnitudeMasks, GlobalRanksAllLayersTogether) {
  const std::vector<float> a = {0.5f, -0.1f, 0.3f, -0.7f};
  const std::vector<float> b = {10.0f, -20.0f, 30.0f, 40.0f};
  const WeightMatrix layers[] = {{a, 1, 4}, {b, 1, 4}};
  const auto masks = magnitude_masks(layers, 0.5, {.schedule = {}, .global = true});
  EXPECT_EQ(zeros(masks[0]), 4u);  // the small layer goes entirely
  EXPECT_EQ(zeros(masks[1]), 0u);
}

TEST(MagnitudeMasks, TiesAreBrokenByPosition) {
  const std::vector<float> w(10, 1.0f);
  const WeightMatrix layers[] = {{w, 2, 5}};
  const auto masks = magnitude_masks(layers, 0.3, {});
  EXPECT_EQ(masks[0], (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
}

TEST(MagnitudeMasks, BlocksAreScoredByMeanMagnitude) {
  // 2 x 6 in 1x2 blocks (the last block of each row is 2 wide too); block means:
  // row 0: 0.15, 1.0, 0.45; row 1: 0.6, 0.05, 2.0.
  const std::vector<float> w = {0.1f, -0.2f, 1.0f, 1.0f,  0.4f, -0.5f,
                                0.6f, 0.6f,  0.0f, -0.1f, 2.0f, 2.0f};
  const WeightMatrix layers[] = {{w, 2, 6}};
  PruneOptions o{
      .schedule = {}, .structure = PruneStructure::block, .block_rows = 1, .block_cols = 2};
  const auto masks = magnitude_masks(layers, 0.5, o);
  EXPECT_EQ(masks[0], (std::vector<uint8_t>{0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1}));
}

TEST(MagnitudeMasks, NOfMKeepsTheLargestInEveryGroup) {
  // One row of 10: groups [0,4), [4,8) and the partial [8,10).
  const std::vector<float> w = {0.1f, -0.9f, 0.5f, 0.2f, 3.0f, 1.0f, -2.0f, 0.0f, 0.3f, 0.4f};
  const WeightMatrix layers[] = {{w, 1, 10}};
  PruneOptions o{.schedule = {}, .structure = PruneStructure::n_of_m, .n = 2, .m = 4};
  const auto masks = magnitude_masks(layers, 0.0, o);  // N:M ignores the schedule's sparsity
  EXPECT_EQ(masks[0], (std::vector<uint8_t>{0, 1, 1, 0, 1, 0, 1, 0, 1, 1}));
}

TEST(MagnitudeMasks, ReachesTheSparsityOnLargeLayers) {
  std::vector<float> w(1000);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i) * 0.37f);
  const WeightMatrix layers[] = {{w, 10, 100}};
  for (double s : {0.0, 0.5, 0.8, 0.9}) {
    const auto masks = magnitude_masks(layers, s, {});
    EXPECT_EQ(zeros(masks[0]), static_cast<size_t>(std::llround(s * 1000))) << s;
  }
}

TEST(PruneStructure, ParsesNamesAndRejectsOthers) {
  int n = 0, m = 0;
  EXPECT_EQ(parse_prune_structure("unstructured"), PruneStructure::unstructured);
  EXPECT_EQ(parse_prune_structure("block"), PruneStructure::block);
  EXPECT_EQ(parse_prune_structure("2:4", &n, &m), PruneStructure::n_of_m);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(m, 4);
  for (const char* bad : {"4:2", "2:", ":4", "x:y", "2:4x", "dense"})
    EXPECT_THROW(parse_prune_structure(bad), InputError) << bad;
  const std::vector<float> w = {1.0f};
  const WeightMatrix layers[] = {{w, 1, 1}};
  EXPECT_THROW(magnitude_masks(layers, 1.0, {}), InputError);
}

}  // namespace
}  // namespace pitlane::train
