// Training-time optimization inside the trainer: the structural promises hold on the weights it
// returns (sparsity reached, zeros still zero after QAT, at most k int8 values per channel after
// cluster + QAT), QAT learns one range per activation point, and folding the input BatchNorm
// leaves libtorch's forward pass unchanged.
#include <gtest/gtest.h>

#include <cmath>

#include "decoded_recordings.h"
#include "pitlane/core/error.h"
#include "pitlane/core/rng.h"
#include "pitlane/train/trainer.h"

namespace pitlane::train {
namespace {

class CompressionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new test::DecodedRecordings("compression");
    recs_ = &data_->recs;
  }
  static void TearDownTestSuite() { delete data_; }

  // A few steps of fine-tuning from `init` under `c`.
  static TrainResult tune(const PilotNetWeights& init, const CompressionConfig& c, int epochs = 2) {
    TrainConfig cfg;
    cfg.arch = init.arch;
    cfg.batch_size = 16;
    cfg.learning_rate = 1e-3;
    cfg.epochs = epochs;
    cfg.oversample = false;
    cfg.augment = false;
    cfg.progress = false;
    cfg.measure_loader_images = 0;
    cfg.compute_threads = 1;
    cfg.initial_weights = init;
    cfg.compression = c;
    return train_pilotnet(*recs_, std::vector<int>{0}, std::vector<int>{1}, {}, {}, cfg);
  }

  static std::vector<const std::vector<float>*> layer_weights(const PilotNetWeights& w) {
    std::vector<const std::vector<float>*> out;
    for (const auto& c : w.convs) out.push_back(&c.weight);
    for (const auto& d : w.dense) out.push_back(&d.weight);
    return out;
  }
  static std::vector<int64_t> rows(const PilotNetWeights& w) {
    std::vector<int64_t> out;
    for (const auto& c : w.convs) out.push_back(c.out_channels);
    for (const auto& d : w.dense) out.push_back(d.out_features);
    return out;
  }

  static test::DecodedRecordings* data_;
  static std::vector<data::Recording>* recs_;
};
test::DecodedRecordings* CompressionTest::data_ = nullptr;
std::vector<data::Recording>* CompressionTest::recs_ = nullptr;

TEST_F(CompressionTest, PolynomialPruningEndsAtItsTargetInEveryLayer) {
  CompressionConfig c;
  c.prune = PruneOptions{};
  c.prune->global = false;
  c.prune->schedule = {
      .kind = SparsitySchedule::Kind::polynomial, .initial = 0.5, .target = 0.8, .frequency = 2};
  const TrainResult r = tune(init_pilotnet(Arch::valid, 1), c);
  EXPECT_EQ(r.state.steps, 6);  // 48 frames / 16, two epochs
  for (const auto* w : layer_weights(r.best)) {
    EXPECT_NEAR(zero_fraction(*w), 0.8, 0.5 / static_cast<double>(w->size()) + 1e-12);
  }
}

TEST_F(CompressionTest, QatAfterPruningKeepsEveryZeroAndQuantizesPerChannel) {
  CompressionConfig prune;
  prune.prune = PruneOptions{};
  prune.prune->schedule = {.kind = SparsitySchedule::Kind::constant, .target = 0.5};
  const TrainResult pruned = tune(init_pilotnet(Arch::valid, 2), prune);

  CompressionConfig qat;
  qat.qat = QatOptions{};
  qat.keep_zeros = true;
  const TrainResult r = tune(pruned.best, qat);
  const auto before = layer_weights(pruned.best), after = layer_weights(r.best);
  const auto out_rows = rows(r.best);
  for (size_t l = 0; l < before.size(); ++l) {
    const auto& b = *before[l];
    const auto& a = *after[l];
    int64_t kept_zero = 0, zeros = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      if (b[i] == 0.0f) {
        ++zeros;
        kept_zero += a[i] == 0.0f;
      }
    }
    EXPECT_EQ(kept_zero, zeros) << "layer " << l;
    // Every weight sits on its channel's int8 grid: w / (max|w| / 127) is an integer.
    const int64_t cols = static_cast<int64_t>(a.size()) / out_rows[l];
    for (int64_t row = 0; row < out_rows[l]; ++row) {
      float amax = 0.0f;
      for (int64_t k = 0; k < cols; ++k) amax = std::max(amax, std::fabs(a[row * cols + k]));
      const float scale = amax / 127.0f;
      for (int64_t k = 0; k < cols; ++k) {
        const float q = a[row * cols + k] / scale;
        EXPECT_NEAR(q, std::nearbyint(q), 1e-3) << "layer " << l << " row " << row;
      }
    }
  }
  // One learned range per activation point, holding zero (ReLU outputs start at 0).
  ASSERT_EQ(r.activation_ranges.size(), 10u);
  for (const auto& range : r.activation_ranges) {
    EXPECT_LE(range.min, 0.0f);
    EXPECT_GT(range.max, 0.0f);
  }
  EXPECT_TRUE(pruned.activation_ranges.empty());
}

TEST_F(CompressionTest, ClusterThenQatKeepsAtMostKValuesPerChannel) {
  CompressionConfig cluster;
  cluster.cluster = ClusterOptions{.clusters = 6, .seed = 3};
  const TrainResult clustered = tune(init_pilotnet(Arch::valid, 3), cluster);
  CompressionConfig cqat = cluster;
  cqat.cluster_existing = true;
  cqat.qat = QatOptions{};
  const TrainResult r = tune(clustered.best, cqat, 1);
  const auto out_rows = rows(r.best);
  const auto c = layer_weights(clustered.best), q = layer_weights(r.best);
  for (size_t l = 0; l < q.size(); ++l) {
    const int64_t cols = static_cast<int64_t>(q[l]->size()) / out_rows[l];
    EXPECT_LE(max_distinct_per_row({*c[l], out_rows[l], cols}), 6) << "layer " << l;
    EXPECT_LE(max_distinct_per_row({*q[l], out_rows[l], cols}), 6) << "layer " << l;
  }
  // The centroids trained: the clustered weights moved away from the first clustering.
  EXPECT_NE(*q[5], *c[5]);
}

TEST_F(CompressionTest, FoldingTheInputNormKeepsTheForwardPass) {
  Rng rng(5);
  std::vector<float> x(2 * 3 * 66 * 200);
  for (float& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  PilotNetWeights net = init_pilotnet(Arch::valid, 4);
  const auto want = torch_forward(net, x, 2);
  ASSERT_TRUE(fold_input_norm(net));
  EXPECT_EQ(net.input_norm.epsilon, 0.0f);
  const auto got = torch_forward(net, x, 2);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4f);
  PilotNetWeights same = init_pilotnet(Arch::same, 4);
  const auto before = same.convs[0].weight;
  EXPECT_FALSE(fold_input_norm(same));  // padded first conv: not exact, left alone
  EXPECT_EQ(same.convs[0].weight, before);
}

TEST_F(CompressionTest, CompressionRunsCannotResume) {
  TrainConfig cfg;
  cfg.compression = CompressionConfig{};
  cfg.resume = true;
  cfg.progress = false;
  EXPECT_THROW(train_pilotnet(*recs_, std::vector<int>{0}, std::vector<int>{1}, {}, {}, cfg),
               InputError);
}

}  // namespace
}  // namespace pitlane::train
