#include "pitlane/study/stage_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"

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

// Every hashed folder with a made-up hash, as a test's stand-in for a build's.
CodeHashes fake_hashes() {
  CodeHashes code;
  for (const auto& [folder, hash] : built_code_hashes()) code[folder] = std::string(64, 'a');
  return code;
}

const std::vector<std::string> kKeyedStages = {"record",   "train",     "dagger", "optimize",
                                               "evaluate", "benchmark", "drive"};

TEST(StageCache, KeyChangesExactlyWithTheCodeTheStageDependsOn) {
  const nlohmann::ordered_json inputs = {{"epochs", 2}};
  const CodeHashes base = fake_hashes();
  for (const auto& stage : kKeyedStages) {
    const auto& used = stage_code_folders(stage);
    EXPECT_TRUE(std::find(used.begin(), used.end(), "study") != used.end()) << stage;
    for (const auto& [folder, hash] : base) {
      CodeHashes edited = base;
      edited[folder] = std::string(64, 'b');
      const bool depends = std::find(used.begin(), used.end(), folder) != used.end();
      EXPECT_EQ(stage_key(stage, inputs, edited) != stage_key(stage, inputs, base), depends)
          << stage << " after an edit in " << folder;
    }
  }
  // What a rebuilt binary must redo: a runtime kernel reruns what runs models, not the expert's
  // recordings or training; a simulator change reruns the recordings and the drives.
  auto changed_by = [&](const std::string& folder) {
    std::vector<std::string> stages;
    CodeHashes edited = base;
    edited[folder] = std::string(64, 'c');
    for (const auto& s : kKeyedStages)
      if (stage_key(s, inputs, edited) != stage_key(s, inputs, base)) stages.push_back(s);
    return stages;
  };
  EXPECT_EQ(changed_by("runtime"),
            (std::vector<std::string>{"dagger", "optimize", "evaluate", "benchmark", "drive"}));
  EXPECT_EQ(changed_by("sim"),
            (std::vector<std::string>{"record", "dagger", "benchmark", "drive"}));
  EXPECT_EQ(changed_by("train"), (std::vector<std::string>{"train", "dagger", "optimize"}));
  EXPECT_EQ(changed_by("circuits"),
            (std::vector<std::string>{"record", "dagger", "benchmark", "drive"}));
}

TEST(StageCache, KeyIsStableForIdenticalInputsAndCode) {
  const nlohmann::ordered_json inputs = {{"train", {{"epochs", 2}}}, {"seed", 7}};
  const CodeHashes code = fake_hashes();
  const CodeHashes same = code;  // a separate copy: only the values count
  for (const auto& stage : kKeyedStages) {
    EXPECT_EQ(stage_key(stage, inputs, code), stage_key(stage, inputs, same)) << stage;
  }
  // Pinned: the key of the same inputs and code is the same on every machine and build. A
  // change here (the version string, the key's layout) invalidates every cached study.
  EXPECT_EQ(stage_key("train", inputs, code),
            "220b641087298902e2444bfc563c73f98f562e7f95512e2e2edeba2c0541af53");
}

TEST(StageCache, KeyNeedsTheHashOfEveryFolderTheStageUses) {
  CodeHashes code = fake_hashes();
  code.erase("runtime");
  EXPECT_NO_THROW((void)stage_key("record", {}, code));
  EXPECT_THROW((void)stage_key("drive", {}, code), std::invalid_argument);
  EXPECT_THROW((void)stage_code_folders("report"), std::invalid_argument);
}

// The folder's hash as cmake/code_hashes.cmake computes it: SHA-256 of "PATH\nSHA256\n" per file,
// sorted by relative path. `names`: extensions (".h") or whole file names.
std::string folder_hash(const std::filesystem::path& dir, bool recursive,
                        const std::vector<std::string>& names) {
  std::vector<std::string> files;
  auto take = [&](const std::filesystem::directory_entry& e) {
    const auto& p = e.path();
    const bool wanted = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return n[0] == '.' ? p.extension() == n : p.filename() == n;
    });
    if (e.is_regular_file() && wanted) {
      files.push_back(std::filesystem::relative(p, dir).generic_string());
    }
  };
  if (recursive) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) take(e);
  } else {
    for (const auto& e : std::filesystem::directory_iterator(dir)) take(e);
  }
  std::sort(files.begin(), files.end());
  std::string manifest;
  for (const auto& f : files) manifest += f + "\n" + sha256_file(dir / f) + "\n";
  return sha256_hex(manifest);
}

TEST(StageCache, BuiltHashesAreTheSourcesOfEachFolder) {
  const CodeHashes& built = built_code_hashes();
  for (const auto& stage : kKeyedStages) {
    for (const auto& folder : stage_code_folders(stage)) {
      ASSERT_TRUE(built.count(folder)) << folder;
      EXPECT_EQ(built.at(folder).size(), 64u) << folder;
    }
  }
  // Two folders recomputed here (the others change while their owners edit): one recursive
  // source folder and the non-recursive circuits. Fails when the binary is older than the
  // sources: rebuild.
  const std::filesystem::path root = PITLANE_SOURCE_DIR;
  EXPECT_EQ(built.at("study"), folder_hash(root / "src" / "pitlane" / "study", true,
                                           {".h", ".hpp", ".cpp", ".inc", "CMakeLists.txt"}));
  EXPECT_EQ(built.at("circuits"), folder_hash(root / "circuits", false, {".csv"}));
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
