#include "pitlane/study/stage_cache.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::study {
namespace {

TEST(StageCache, KeyDependsOnStageAndInputs) {
  const nlohmann::ordered_json a = {{"epochs", 2}};
  const nlohmann::ordered_json b = {{"epochs", 3}};
  EXPECT_EQ(stage_key("train", a), stage_key("train", a));
  EXPECT_NE(stage_key("train", a), stage_key("train", b));
  EXPECT_NE(stage_key("train", a), stage_key("record", a));
  EXPECT_EQ(stage_key("train", a).size(), 64u);
}

TEST(StageCache, ReusesOnlyTheSameKeyWithItsFilesPresent) {
  testing::TempDir tmp("stage-cache");
  const auto run = tmp.path() / "run";
  std::filesystem::create_directories(run / "models");
  write_file_atomic(run / "models" / "m.onnx", "x");
  const StageCache cache(run / "stages", "");
  nlohmann::ordered_json result = {{"model", "models/m.onnx"}, {"files", {"models/m.onnx"}}};
  EXPECT_FALSE(cache.lookup("train", "k1").has_value());
  cache.store("train", "k1", result);
  const auto hit = cache.lookup("train", "k1");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ((*hit)["model"], "models/m.onnx");
  EXPECT_FALSE(cache.lookup("train", "k2").has_value());  // inputs changed
  std::filesystem::remove(run / "models" / "m.onnx");
  EXPECT_FALSE(cache.lookup("train", "k1").has_value());  // its output is gone
}

TEST(StageCache, ForcedStagesAndLaterOnesAreNeverReused) {
  testing::TempDir tmp("stage-force");
  const StageCache plain(tmp.path() / "stages", "");
  for (const auto& s : stage_names()) plain.store(s, "k", {{"files", nlohmann::json::array()}});
  const StageCache forced(tmp.path() / "stages", "evaluate");
  EXPECT_TRUE(forced.lookup("train", "k").has_value());
  EXPECT_FALSE(forced.lookup("evaluate", "k").has_value());
  EXPECT_FALSE(forced.lookup("drive", "k").has_value());
  EXPECT_THROW(StageCache(tmp.path() / "stages", "polish"), InputError);
}

TEST(StageCache, DamagedEntryIsRecomputedNotAnError) {
  testing::TempDir tmp("stage-damaged");
  std::filesystem::create_directories(tmp.path() / "stages");
  write_file_atomic(tmp.path() / "stages" / "train.json", "{ not json");
  const StageCache cache(tmp.path() / "stages", "");
  EXPECT_FALSE(cache.lookup("train", "k").has_value());
}

}  // namespace
}  // namespace pitlane::study
