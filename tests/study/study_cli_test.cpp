// The quick study end to end, as a user runs it: twice from scratch must give the same results
// (apart from wall-clock fields), and a rerun must reuse every stage.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "../cli/cli_test.h"
#include "../temp_dir.h"
#include "pitlane/core/files.h"
#include "pitlane/core/sha256.h"
#include "pitlane/study/report.h"
#include "study_test_files.h"

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
    // Run a writes its HTML report (report.html); b leaves it out.
    const std::string report = std::string(dir) == "a" ? "" : " --no-report";
    const auto r = run_pitlane(
        "study " + config + " --quiet" + report + " --runs-dir " + (tmp.path() / dir).string(),
        err);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Closed loop: simple_circuit"), std::string::npos) << r.out;
  }
  const Json a = read_json(tmp.path() / "a" / "quick" / "results.json");
  const Json b = read_json(tmp.path() / "b" / "quick" / "results.json");
  EXPECT_EQ(without_wall_clock(a).dump(2), without_wall_clock(b).dump(2));
  EXPECT_TRUE(a.contains("wall_clock"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "a" / "quick" / "results.md"));
  EXPECT_GT(std::filesystem::file_size(tmp.path() / "a" / "quick" / "report.html"), 100'000u);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "b" / "quick" / "report.html"));

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
  const auto again = run_pitlane(
      "study " + config + " --no-report --runs-dir " + (tmp.path() / "a").string(), err);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const char* stage :
       {"record", "train", "dagger", "optimize", "evaluate", "benchmark", "drive"}) {
    EXPECT_NE(again.err.find(std::string("stage ") + stage + ": unchanged"), std::string::npos)
        << stage << "\n"
        << again.err;
  }
  EXPECT_EQ(read_json(tmp.path() / "a" / "quick" / "results.json")["closed_loop"].dump(),
            a["closed_loop"].dump());

  // Repetitions are paired episodes with verdicts; each drive left its trajectory.
  EXPECT_EQ(a["metric_version"], "pitlane-ds/1");
  ASSERT_FALSE(a["closed_loop_verdicts"].empty());
  for (const auto& v : a["closed_loop_verdicts"]) {
    EXPECT_EQ(v["episodes"], 2) << v.dump();
    if (v["model"] != "baseline") {
      EXPECT_TRUE(v.contains("vs_baseline")) << v.dump();
    }
  }
  for (const auto& run : a["closed_loop"]) {
    EXPECT_TRUE(
        std::filesystem::exists(tmp.path() / "a" / "quick" / run["trajectory"].get<std::string>()))
        << run.dump();
  }

  // Re-benchmarking the same models on the same code keeps the latency the drives used
  // (latency.json), whatever the new measurement: the drives are reused and results unchanged.
  const auto memo_path = tmp.path() / "a" / "quick" / "latency.json";
  Json memo = read_json(memo_path);
  ASSERT_EQ(memo.size(), 4u);  // expert, baseline, int8, pcqat
  const auto rebench = run_pitlane(
      "study " + config + " --from benchmark --no-report --runs-dir " + (tmp.path() / "a").string(),
      err);
  ASSERT_EQ(rebench.exit_code, 0) << rebench.err;
  EXPECT_EQ(read_json(memo_path).dump(), memo.dump());
  EXPECT_EQ(without_wall_clock(read_json(tmp.path() / "a" / "quick" / "results.json")).dump(2),
            without_wall_clock(a).dump(2));
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

TEST(StudyCli, UnwritableRunsDirIsAnInputErrorBeforeAnyWork) {
  // Root may pass every permission check, yet nothing can be created under /proc: the probe
  // writes a file rather than asking access(2).
  pitlane::testing::TempDir tmp("study-proc");
  const std::string err = (tmp.path() / "err.txt").string();
  const auto r = run_pitlane("study " + std::string(PITLANE_SOURCE_DIR) +
                                 "/configs/quick.yaml --runs-dir /proc/pitlane-runs",
                             err);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("/proc/pitlane-runs/quick"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("runs_dir"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("stage record"), std::string::npos) << r.err;  // nothing ran
}

// A study small enough for a test: one training circuit and direction, two DAgger rounds, the
// drives cut short.
std::string tiny_config(const std::string& extra_record, const std::string& optimize,
                        const std::string& extra_evaluate, const std::string& tail) {
  return "name: tiny\nseed: 3\n"
         "record:\n  circuits: [many_curves]\n  directions: [cw]\n  frames: 60\n"
         "  perturbed_frames: 0\n" +
         extra_record +
         "train:\n  epochs: 1\n  samples_per_epoch: 128\n  validation_fraction: 0.3\n"
         "dagger:\n  rounds: 2\n  frames: 30\n  epochs: 1\n  samples_per_epoch: 64\n"
         "optimize:\n" +
         optimize +
         "  finetune:\n    samples_per_epoch: 64\n"
         "evaluate:\n  circuits: [simple_circuit]\n  directions: [cw]\n  frames: 30\n" +
         extra_evaluate +
         "benchmark:\n  runs: 5\n  warmup: 1\n  latency_quantum_ms: 10\n"
         "drive:\n  circuits: [simple_circuit]\n  directions: [cw]\n  timeout_s: 3\n"
         "  slowdowns: [1]\n  expert: false\n" +
         tail;
}

TEST(StudyCli, ValidationSplitThatLeavesNoTrainingDataFailsBeforeAnyWork) {
  // One expert recording of 60 frames and one of the user's of 10: holding out 30% takes the
  // whole of either, and whichever the shuffle puts first, nothing is left to train on.
  pitlane::testing::TempDir tmp("study-split");
  const std::string err = (tmp.path() / "err.txt").string();
  test_files::write_recording(tmp.path() / "own" / "lap", 10);
  const auto yaml = tmp.path() / "split.yaml";
  write_file_atomic(yaml, tiny_config("  recordings: [" + (tmp.path() / "own").string() + "]\n",
                                      "  recipes: []\n", "", "") +
                              "runs_dir: " + (tmp.path() / "runs").string() + "\n");
  auto text = read_file(yaml);
  text.replace(text.find("validation_fraction: 0.3"), 24, "validation_fraction: 0.9");
  write_file_atomic(yaml, text);
  const auto r = run_pitlane("study " + yaml.string(), err);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("train.validation_fraction 0.9 leaves the first training nothing to "
                       "train on"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "runs"));
}

// What a rerun printed: the stages it took from the cache.
std::vector<std::string> reused_stages(const std::string& log) {
  std::vector<std::string> out;
  for (const char* stage :
       {"record", "train", "dagger", "optimize", "evaluate", "benchmark", "drive"}) {
    if (log.find(std::string("stage ") + stage + ": unchanged") != std::string::npos) {
      out.push_back(stage);
    }
  }
  return out;
}

TEST(StudyCli, UsersOwnModelsRecordingsAndRecipeVariantsJoinTheStudy) {
  pitlane::testing::TempDir tmp("study-own");
  const auto& dir = tmp.path();
  const std::string err = (dir / "err.txt").string();
  test_files::write_recording(dir / "own_train" / "lap_a", 40);
  test_files::write_recording(dir / "own_train" / "lap_b", 40);
  const auto own_test = test_files::write_recording(dir / "own_test" / "test_lap", 20);
  const auto model = test_files::write_constant_model(dir / "mine.onnx", 0.3f, 0.5f, false);
  const auto yaml = dir / "own.yaml";
  write_file_atomic(
      yaml, tiny_config("  recordings: [" + (dir / "own_train").string() + "]\n",
                        "  recipes:\n"
                        "    - {recipe: prune, name: prune-50, sparsity: 0.5, prune_epochs: 1}\n"
                        "    - {recipe: prune, name: prune-90, sparsity: 0.9, prune_epochs: 1}\n",
                        "  recordings: [" + own_test.string() + "]\n",
                        "models:\n  - {name: mine, file: " + model.string() + "}\n"));
  auto study = [&](const std::string& runs) {
    return run_pitlane(
        "study " + yaml.string() + " --no-report --runs-dir " + (dir / runs).string(), err);
  };
  for (const char* runs : {"a", "b"}) {
    const auto r = study(runs);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto run_dir = dir / "a" / "tiny";
  const Json a = read_json(run_dir / "results.json");
  // Deterministic with all of it: two runs from scratch give the same results.
  EXPECT_EQ(without_wall_clock(a).dump(2),
            without_wall_clock(read_json(dir / "b" / "tiny" / "results.json")).dump(2));

  // Offline: the baseline, both prune variants under their own names, then the user's model,
  // copied into the run folder; the user's test recording beside the expert's.
  ASSERT_EQ(a["offline"].size(), 4u);
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"baseline", "baseline"}, {"prune-50", "prune"}, {"prune-90", "prune"}, {"mine", "user"}};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(a["offline"][i]["model"], rows[i].first);
    EXPECT_EQ(a["offline"][i]["recipe"], rows[i].second);
    ASSERT_EQ(a["offline"][i]["per_recording"].size(), 2u);
    EXPECT_EQ(a["offline"][i]["per_recording"][1]["recording"], "test_lap");
  }
  EXPECT_EQ(a["offline"][3]["file"], "models/mine.onnx");
  EXPECT_EQ(a["offline"][3]["sha256"], sha256_file(model));
  EXPECT_EQ(sha256_file(run_dir / "models" / "mine.onnx"), sha256_file(model));
  // Each variant pruned to its own sparsity: the 90% one compresses to much less.
  const Json optimized = read_json(run_dir / "stages" / "optimize.json")["result"]["models"];
  EXPECT_NEAR(optimized[0]["sparsity"].get<double>(), 0.5, 0.02);
  EXPECT_NEAR(optimized[1]["sparsity"].get<double>(), 0.9, 0.02);
  EXPECT_LT(a["offline"][2]["gzip_bytes"].get<double>(),
            0.5 * a["offline"][1]["gzip_bytes"].get<double>());
  // Trained on the user's recordings too, and a second DAgger round (its recordings numbered).
  const Json& initial = a["training"]["initial"];
  std::vector<std::string> seen = initial["training_data"];
  for (const auto& v : initial["validation_data"]) seen.push_back(v);
  for (const char* name : {"lap_a", "lap_b", "many_curves_cw"}) {
    EXPECT_NE(std::find(seen.begin(), seen.end(), name), seen.end()) << name;
  }
  ASSERT_EQ(a["training"]["dagger_rounds"].size(), 2u);
  EXPECT_EQ(a["training"]["dagger_rounds"][1]["recordings"][0],
            "data/dagger2/many_curves_cw_dagger2");
  // Every model drove; the tables show the variants' names.
  std::set<std::string> drivers;
  for (const auto& run : a["closed_loop"]) drivers.insert(run["model"]);
  EXPECT_EQ(drivers, (std::set<std::string>{"baseline", "prune-50", "prune-90", "mine"}));
  const std::string md = read_file(run_dir / "results.md");
  EXPECT_NE(md.find("| prune-90"), std::string::npos) << md;
  EXPECT_NE(md.find("| mine"), std::string::npos) << md;

  // A rerun reuses everything.
  auto again = study("a");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(reused_stages(again.err).size(), 7u) << again.err;
  // Another file under the user's model's path: the stages that use it run again.
  test_files::write_constant_model(model, 0.6f, 0.5f, false);
  again = study("a");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(reused_stages(again.err),
            (std::vector<std::string>{"record", "train", "dagger", "optimize"}))
      << again.err;
  EXPECT_EQ(read_json(run_dir / "results.json")["offline"][3]["sha256"], sha256_file(model));
  // A changed label in the user's test recording: the offline evaluation only.
  const auto csv = own_test / "data.csv";
  auto text = read_file(csv);
  text.replace(text.find("0.png, 8.0"), 10, "0.png, 7.0");
  write_file_atomic(csv, text);
  again = study("a");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(reused_stages(again.err), (std::vector<std::string>{"record", "train", "dagger",
                                                                "optimize", "benchmark", "drive"}))
      << again.err;
  // A frame fewer in the user's training recordings: training and everything after it.
  std::filesystem::remove(dir / "own_train" / "lap_b" / "39.png");
  text = read_file(dir / "own_train" / "lap_b" / "data.csv");
  text.erase(text.find("39.png"));
  write_file_atomic(dir / "own_train" / "lap_b" / "data.csv", text);
  again = study("a");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(reused_stages(again.err), (std::vector<std::string>{"record"})) << again.err;
}

TEST(StudyCli, AutoRecipeSearchesOnTheStudysDriveSet) {
  // The auto recipe as a study recipe: searched on the study's own drives (one circuit, one
  // direction, one repetition here), its decision log beside the model, the model driven and
  // evaluated like every other.
  pitlane::testing::TempDir tmp("study-auto");
  const std::string err = (tmp.path() / "err.txt").string();
  const auto yaml = tmp.path() / "auto.yaml";
  std::string config = tiny_config("", "  recipes: [auto]\n  calib_images: 10\n", "", "") +
                       "runs_dir: " + (tmp.path() / "runs").string() + "\n";
  config.replace(config.find("  rounds: 2\n"), 12, "  rounds: 0\n");
  config.replace(config.find("perturbed_frames: 0"), 19, "perturbed_frames: 60");
  write_file_atomic(yaml, config);
  const auto r = run_pitlane("study " + yaml.string() + " --no-report", err);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto run_dir = tmp.path() / "runs" / "tiny";
  const Json a = read_json(run_dir / "results.json");
  ASSERT_EQ(a["offline"].size(), 2u);
  EXPECT_EQ(a["offline"][1]["model"], "auto");
  EXPECT_EQ(a["offline"][1]["recipe"], "auto");
  const Json log = read_json(run_dir / "models" / "auto.auto.json");
  EXPECT_EQ(log["sensitivity"]["layers"].size(), 10u);
  EXPECT_FALSE(log["steps"].empty());
  EXPECT_TRUE(std::filesystem::exists(run_dir / "models" / "auto.auto.md"));
  bool drove = false;
  for (const auto& run : a["closed_loop"]) drove |= run["model"] == "auto";
  EXPECT_TRUE(drove);
}

}  // namespace
}  // namespace pitlane::study
