// The quick study end to end, as a user runs it: twice from scratch must give the same results
// (apart from wall-clock fields), and a rerun must reuse every stage.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/cli_test.h"
#include "../temp_dir.h"
#include "pitlane/core/files.h"
#include "pitlane/study/report.h"

namespace pitlane::study {
namespace {

using Json = nlohmann::ordered_json;
using testing::run_pitlane;

Json read_json(const std::filesystem::path& p) {
  return Json::parse(read_file(p));
}

TEST(StudyCli, QuickStudyIsReproducibleAndCached) {
  pitlane::testing::TempDir tmp("study-cli");
  const std::string config = PITLANE_SOURCE_DIR "/configs/quick.yaml";
  const std::string err = (tmp.path() / "err.txt").string();
  for (const char* dir : {"a", "b"}) {
    const auto r =
        run_pitlane("study " + config + " --quiet --runs-dir " + (tmp.path() / dir).string(), err);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Closed loop: simple_circuit"), std::string::npos) << r.out;
  }
  const Json a = read_json(tmp.path() / "a" / "quick" / "results.json");
  const Json b = read_json(tmp.path() / "b" / "quick" / "results.json");
  EXPECT_EQ(without_wall_clock(a).dump(2), without_wall_clock(b).dump(2));
  EXPECT_TRUE(a.contains("wall_clock"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "a" / "quick" / "results.md"));

  // Every model and the expert drove; x30 shows the slower brain.
  ASSERT_FALSE(a["closed_loop"].empty());
  double hz_x1 = 0, hz_x30 = 0;
  bool expert = false;
  for (const auto& run : a["closed_loop"]) {
    expert |= run["model"] == "expert";
    if (run["model"] != "baseline") continue;
    (run["slowdown"] == 1.0 ? hz_x1 : hz_x30) = run["metrics"]["brain_hz"].get<double>();
  }
  EXPECT_TRUE(expert);
  EXPECT_GT(hz_x1, 2 * hz_x30);
  // The baseline, its int8 model and its pcqat model (fine-tuned: pruned, clustered, QAT),
  // offline: both int8 files are about a quarter of the size; pcqat's half zeros and eight
  // values per channel make it compress to about half of that.
  ASSERT_EQ(a["offline"].size(), 3u);
  EXPECT_EQ(a["offline"][1]["recipe"], "int8");
  EXPECT_EQ(a["offline"][2]["recipe"], "pcqat");
  EXPECT_GT(a["offline"][0]["frames"].get<int>(), 0);
  for (int i : {1, 2}) {
    EXPECT_LT(a["offline"][i]["bytes"].get<double>(), 0.3 * a["offline"][0]["bytes"].get<double>());
    EXPECT_GT(a["offline"][i]["gzip_bytes"].get<int64_t>(), 0);
  }
  EXPECT_LT(a["offline"][2]["gzip_bytes"].get<double>(),
            0.6 * a["offline"][1]["gzip_bytes"].get<double>());

  // A rerun reuses every stage and writes the same results.
  const auto again =
      run_pitlane("study " + config + " --runs-dir " + (tmp.path() / "a").string(), err);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const char* stage :
       {"record", "train", "dagger", "optimize", "evaluate", "benchmark", "drive"}) {
    EXPECT_NE(again.err.find(std::string("stage ") + stage + ": unchanged"), std::string::npos)
        << stage << "\n"
        << again.err;
  }
  EXPECT_EQ(read_json(tmp.path() / "a" / "quick" / "results.json")["closed_loop"].dump(),
            a["closed_loop"].dump());
}

TEST(StudyCli, BadConfigAndArgumentsAreOneLineWithExitCodeTwo) {
  pitlane::testing::TempDir tmp("study-bad");
  const std::string err = (tmp.path() / "err.txt").string();
  const auto yaml = tmp.path() / "bad.yaml";
  write_file_atomic(
      yaml, "runs_dir: " + (tmp.path() / "runs").string() + "\nname: x\ntrain:\n  epocs: 3\n");
  for (const std::string& args :
       {"study " + yaml.string(), std::string("study /nonexistent.yaml"),
        "study " + std::string(PITLANE_SOURCE_DIR) +
            "/configs/quick.yaml --from polish --runs-dir " + tmp.path().string(),
        "study " + std::string(PITLANE_SOURCE_DIR) + "/configs/quick.yaml --name ../up"}) {
    const auto r = run_pitlane(args, err);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  const auto r = run_pitlane("study " + yaml.string(), err);
  EXPECT_NE(r.err.find("bad.yaml:4:3"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "runs"));
}

}  // namespace
}  // namespace pitlane::study
