// A study sharded as a cluster runs it: the plan's arithmetic, the job files, and end to end a
// small study run whole and as a prepare job plus two shards, merged: the merged results must
// equal the whole run's (apart from wall-clock values), and a merge with a shard missing or with
// shards that ran different configs must be refused with exit code 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "../cli/cli_test.h"
#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/study/cluster.h"
#include "pitlane/study/report.h"
#include "pitlane/study/shards.h"

namespace pitlane::study {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing::run_pitlane;

TEST(Shards, ParseShardTakesIOfNAndRefusesTheRest) {
  const ShardSpec s = parse_shard("1/4", "--shard");
  EXPECT_EQ(s.index, 1);
  EXPECT_EQ(s.count, 4);
  EXPECT_TRUE(s.sharded());
  EXPECT_EQ(s.label(), "1/4");
  EXPECT_EQ(s.stem(), "1-of-4");
  EXPECT_FALSE(ShardSpec{}.sharded());
  for (const char* bad : {"4/4", "1", "a/b", "-1/2", "1/0", "0/5000", "1/2x", ""}) {
    try {
      (void)parse_shard(bad, "--shard");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--shard", 0), 0u) << e.what();
    }
  }
}

TEST(Shards, PlanDealsTheCostliestFirstToTheLeastLoadedShard) {
  // Equal costs: round robin.
  EXPECT_EQ(plan_owners({1, 1, 1, 1, 1}, 2), (std::vector<int>{0, 1, 0, 1, 0}));
  // One long recipe and four short ones: the long one alone on shard 0, the rest on shard 1
  // until shard 1 carries as much.
  EXPECT_EQ(plan_owners({10, 1, 1, 1, 1}, 2), (std::vector<int>{0, 1, 1, 1, 1}));
  EXPECT_EQ(plan_owners({1, 5, 3}, 2), (std::vector<int>{1, 0, 1}));
  // More shards than units: every unit its own shard.
  EXPECT_EQ(plan_owners({2, 2}, 8), (std::vector<int>{0, 1}));
  // Unit keys depend on both the stage key and the unit.
  EXPECT_NE(unit_key("a", "drive-1"), unit_key("b", "drive-1"));
  EXPECT_NE(unit_key("a", "drive-1"), unit_key("a", "drive-2"));
  EXPECT_EQ(unit_key("a", "drive-1"), unit_key("a", "drive-1"));
}

TEST(Shards, JobFilesRunPrepareTheArrayAndTheMerge) {
  EXPECT_EQ(shell_quote("it's here"), "'it'\\''s here'");
  ClusterJobs jobs;
  jobs.study = "quick";
  jobs.pitlane = "/opt/pitlane/pitlane";
  jobs.workdir = "/home/u/work";
  jobs.config = "/home/u/work/configs/quick.yaml";
  jobs.run_dir = "/home/u/work/runs/quick";
  jobs.shards = 3;
  const std::string slurm = slurm_script(jobs);
  EXPECT_NE(slurm.find("--array=0-2"), std::string::npos) << slurm;
  EXPECT_NE(slurm.find("afterok"), std::string::npos) << slurm;
  EXPECT_NE(slurm.find("--prepare"), std::string::npos) << slurm;
  EXPECT_NE(slurm.find("SLURM_ARRAY_TASK_ID"), std::string::npos) << slurm;
  EXPECT_NE(slurm.find(" merge "), std::string::npos) << slurm;
  const std::string k8s = k8s_manifest(jobs);
  EXPECT_NE(k8s.find("completionMode: Indexed"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("completions: 3"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("JOB_COMPLETION_INDEX"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("pitlane/role: merge"), std::string::npos) << k8s;
  pitlane::testing::TempDir tmp("shards-jobs");
  EXPECT_THROW((void)write_cluster_jobs("pbs", jobs, tmp.path()), InputError);
  const fs::path script = write_cluster_jobs("slurm", jobs, tmp.path());
  EXPECT_EQ(read_file(script), slurm);
  EXPECT_NE(fs::status(script).permissions() & fs::perms::owner_exec, fs::perms::none);
}

// Two recipes, two directions and two repetitions: enough units of every kind that both shards
// get some of each.
std::string sharded_config(const fs::path& runs) {
  return "name: shardy\nseed: 5\nthreads: 1\nruns_dir: " + runs.string() +
         "\n"
         "record:\n  circuits: [many_curves]\n  directions: [cw]\n  frames: 60\n"
         "  perturbed_frames: 60\n"
         "train:\n  epochs: 1\n  samples_per_epoch: 128\n  validation_fraction: 0.3\n"
         "dagger:\n  rounds: 0\n"
         "optimize:\n  recipes: [int8, float16]\n  calib_images: 10\n"
         "evaluate:\n  circuits: [simple_circuit]\n  directions: [cw]\n  frames: 20\n"
         "benchmark:\n  runs: 5\n  warmup: 1\n  latency_quantum_ms: 10\n"
         "drive:\n  circuits: [simple_circuit]\n  directions: [cw, ccw]\n  repetitions: 2\n"
         "  timeout_s: 3\n  slowdowns: [1]\n  expert: false\n";
}

Json read_json(const fs::path& p) {
  return Json::parse(read_file(p));
}

TEST(ShardsCli, TwoShardsMergeToTheWholeRunsResults) {
  pitlane::testing::TempDir tmp("shards-cli");
  const std::string err = (tmp.path() / "err.txt").string();
  const fs::path whole_yaml = tmp.path() / "whole.yaml";
  const fs::path sharded_yaml = tmp.path() / "sharded.yaml";
  write_file_atomic(whole_yaml, sharded_config(tmp.path() / "whole"));
  write_file_atomic(sharded_yaml, sharded_config(tmp.path() / "sharded"));

  const auto whole = run_pitlane("study " + whole_yaml.string() + " --quiet --no-report", err);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;

  const std::string study = "study " + sharded_yaml.string() + " --quiet ";
  const fs::path run = tmp.path() / "sharded" / "shardy";
  const auto prepare = run_pitlane(study + "--prepare", err);
  ASSERT_EQ(prepare.exit_code, 0) << prepare.err;
  const auto first = run_pitlane(study + "--shard 0/2", err);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(fs::exists(run / "shards" / "0-of-2.json"));
  EXPECT_FALSE(fs::exists(run / "results.json"));  // a shard writes its manifest only

  // Shard 1 has not run: the merge names it and writes nothing.
  const auto early = run_pitlane("merge " + run.string() + " --no-report", err);
  EXPECT_EQ(early.exit_code, 2) << early.err;
  EXPECT_EQ(std::count(early.err.begin(), early.err.end(), '\n'), 1) << early.err;
  EXPECT_NE(early.err.find("1-of-2.json"), std::string::npos) << early.err;
  EXPECT_FALSE(fs::exists(run / "results.json"));

  const auto second = run_pitlane(study + "--shard 1/2", err);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto merged = run_pitlane("merge " + run.string() + " --no-report", err);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;

  // The merged file is the whole run's but for the runs folder in the config and the
  // wall-clock values.
  Json a = without_wall_clock(read_json(tmp.path() / "whole" / "shardy" / "results.json"));
  Json b = without_wall_clock(read_json(run / "results.json"));
  ASSERT_TRUE(a.contains("config"));
  a["config"].erase("runs_dir");
  b["config"].erase("runs_dir");
  EXPECT_EQ(a.dump(2), b.dump(2));
  EXPECT_EQ(a["closed_loop"].size(), 3u * 2u * 2u);  // baseline, int8, float16 x 2 dirs x 2 reps

  // A shard that ran another config cannot be merged with the others.
  const fs::path manifest = run / "shards" / "1-of-2.json";
  Json m = read_json(manifest);
  m["config_sha256"] = std::string(64, '0');
  write_file_atomic(manifest, m.dump(2) + "\n");
  const auto mixed = run_pitlane("merge " + run.string() + " --no-report", err);
  EXPECT_EQ(mixed.exit_code, 2) << mixed.err;
  EXPECT_NE(mixed.err.find("config hash"), std::string::npos) << mixed.err;
}

}  // namespace
}  // namespace pitlane::study
