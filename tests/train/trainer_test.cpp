#include "pitlane/train/trainer.h"

#include <gtest/gtest.h>

#include <numeric>

#include "decoded_recordings.h"
#include "pitlane/core/error.h"

namespace fs = std::filesystem;

namespace pitlane::train {
namespace {

using test::RecordingBuilder;
using test::TempDir;

// Two small recordings decoded and cached, shared by the tests of this file.
class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new test::DecodedRecordings("trainer");
    recs_ = &data_->recs;
  }
  static void TearDownTestSuite() { delete data_; }

  static TrainConfig small_config() {
    TrainConfig c;
    c.arch = Arch::valid;
    c.batch_size = 16;
    c.learning_rate = 1e-3;
    c.oversample = false;
    c.augment = false;
    c.progress = false;
    c.measure_loader_images = 0;
    c.compute_threads = 1;
    return c;
  }

  static test::DecodedRecordings* data_;
  static std::vector<data::Recording>* recs_;
  const std::vector<int> train_ = {0}, val_ = {1};
};
test::DecodedRecordings* TrainerTest::data_ = nullptr;
std::vector<data::Recording>* TrainerTest::recs_ = nullptr;

TEST_F(TrainerTest, LossFallsInAFewSteps) {
  TrainConfig c = small_config();
  c.epochs = 12;
  c.early_stop_patience = 0;
  const TrainResult r = train_pilotnet(*recs_, train_, val_, {}, {}, c);
  ASSERT_EQ(r.step_losses.size(), 36u);
  const auto& l = r.step_losses;
  const double first = std::accumulate(l.begin(), l.begin() + 3, 0.0) / 3;
  const double last = std::accumulate(l.end() - 3, l.end(), 0.0) / 3;
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
  ASSERT_EQ(r.state.history.size(), 12u);
  EXPECT_LT(r.state.best_validation_loss, r.state.history.front().validation_loss);
  EXPECT_GT(r.train_images_per_s, 0.0);
}

TEST_F(TrainerTest, SameSeedSameLosses) {
  TrainConfig c = small_config();
  c.epochs = 2;
  c.augment = true;
  c.oversample = true;
  c.samples_per_epoch = 32;
  const TrainResult a = train_pilotnet(*recs_, train_, val_, {}, {}, c);
  const TrainResult b = train_pilotnet(*recs_, train_, val_, {}, {}, c);
  EXPECT_EQ(a.step_losses, b.step_losses);
  EXPECT_EQ(a.best.dense.back().weight, b.best.dense.back().weight);
}

TEST_F(TrainerTest, ResumesFromACheckpoint) {
  TempDir ckpt("trainer-ckpt");
  TrainConfig c = small_config();
  c.samples_per_epoch = 32;
  c.early_stop_patience = 0;
  c.checkpoint_dir = ckpt.path();
  c.epochs = 2;
  const TrainResult first = train_pilotnet(*recs_, train_, val_, {}, {}, c);
  ASSERT_TRUE(fs::exists(ckpt.path() / "state.json"));
  c.resume = true;
  c.epochs = 3;
  const TrainResult resumed = train_pilotnet(*recs_, train_, val_, {}, {}, c);
  EXPECT_EQ(resumed.state.epochs_done, 3);
  ASSERT_EQ(resumed.state.history.size(), 3u);
  EXPECT_EQ(resumed.state.history[1].train_loss, first.state.history[1].train_loss);
  EXPECT_EQ(resumed.step_losses.size(), 2u);  // only the third epoch ran in this call
  EXPECT_EQ(resumed.state.steps, 6);

  // Uninterrupted 3 epochs give the same third epoch.
  TrainConfig straight = small_config();
  straight.samples_per_epoch = 32;
  straight.early_stop_patience = 0;
  straight.epochs = 3;
  const TrainResult s = train_pilotnet(*recs_, train_, val_, {}, {}, straight);
  EXPECT_NEAR(s.state.history[2].train_loss, resumed.state.history[2].train_loss, 1e-6);

  c.batch_size = 8;  // a different configuration must not silently resume
  EXPECT_THROW(train_pilotnet(*recs_, train_, val_, {}, {}, c), InputError);
}

// A learning rate that blows the weights up: training stops with a RunError naming the
// divergence (the CLI's exit code 1) instead of keeping a NaN epoch as the best and writing it.
TEST_F(TrainerTest, DivergenceIsAnErrorNotABestEpoch) {
  TrainConfig c = small_config();
  c.epochs = 3;
  c.learning_rate = 1e12;
  try {
    train_pilotnet(*recs_, train_, val_, {}, {}, c);
    FAIL() << "trained on";
  } catch (const RunError& e) {
    EXPECT_NE(std::string(e.what()).find("training diverged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lower the learning rate"), std::string::npos);
  }
}

TEST(PilotNet, ArchitecturesHaveTheStudysSizes) {
  const PilotNetWeights same = pilotnet_skeleton(Arch::same);
  EXPECT_EQ(same.parameter_count(), 17016206);
  EXPECT_EQ(same.dense.front().in_features, 14400);
  EXPECT_EQ(same.convs[0].pad_top, 1);
  EXPECT_EQ(same.convs[0].pad_bottom, 2);
  const PilotNetWeights valid = pilotnet_skeleton(Arch::valid);
  EXPECT_EQ(valid.dense.front().in_features, 1152);
  EXPECT_NEAR(static_cast<double>(valid.parameter_count()) * 4 / (1 << 20), 6.1, 0.1);  // MiB
  EXPECT_EQ(parse_arch("pilotnet-same"), Arch::same);
  EXPECT_THROW(parse_arch("resnet"), InputError);
}

}  // namespace
}  // namespace pitlane::train
