// pitlane study: the whole study from one config; tables on stdout, files in RUNS_DIR/NAME.
// On a cluster: --prepare, --shard I/N (then pitlane merge), or --emit slurm|k8s for the job
// files that run them.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "options.h"
#include "pitlane/core/error.h"
#include "pitlane/sim/timing.h"
#include "pitlane/study/cluster.h"
#include "pitlane/study/config.h"
#include "pitlane/study/shards.h"
#include "pitlane/study/study.h"

namespace pitlane::cli {
namespace {

// --emit: the job files, each job running this binary on the same config with the same
// overrides.
template <typename Options>
void emit_cluster_jobs(const Options& opt, const study::StudyConfig& config) {
  namespace fs = std::filesystem;
  if (opt.shards < 1) {
    throw InputError("--emit " + opt.emit + ": give --shards N, how many shards the jobs run");
  }
  if (opt.prepare || !opt.shard.empty() || !opt.from.empty()) {
    throw InputError("--emit " + opt.emit +
                     ": writes job files only; leave out --prepare, --shard and --from");
  }
  study::ClusterJobs jobs;
  jobs.study = config.name;
  jobs.shards = opt.shards;
  jobs.cpus = std::max(config.threads, config.drive.jobs);
  jobs.image = opt.image;
  jobs.volume_claim = opt.volume_claim;
  const fs::path run_dir = config.runs_dir / config.name;
  if (opt.emit == "slurm") {
    // Jobs start in this folder, with absolute paths to the binary and the files.
    jobs.pitlane = fs::canonical("/proc/self/exe");
    jobs.workdir = fs::current_path();
    jobs.config = fs::absolute(opt.config).lexically_normal().string();
    jobs.run_dir = fs::absolute(run_dir).lexically_normal();
  } else {
    // Pods start in /work, the shared volume: paths as given, relative to it.
    jobs.pitlane = "pitlane";
    jobs.config = opt.config;
    jobs.run_dir = run_dir;
  }
  if (!opt.name.empty()) jobs.study_args.insert(jobs.study_args.end(), {"--name", opt.name});
  if (!opt.runs_dir.empty()) {
    jobs.study_args.insert(
        jobs.study_args.end(),
        {"--runs-dir", opt.emit == "slurm" ? fs::absolute(opt.runs_dir).string() : opt.runs_dir});
  }
  if (!opt.timing.empty()) jobs.study_args.insert(jobs.study_args.end(), {"--timing", opt.timing});
  if (opt.jobs > 0) {
    jobs.study_args.insert(jobs.study_args.end(), {"--jobs", std::to_string(opt.jobs)});
  }
  fs::create_directories(run_dir);
  const fs::path path = study::write_cluster_jobs(opt.emit, jobs, run_dir);
  std::cout << path.string() << "\n";
  if (opt.emit == "slurm") {
    std::cout << "submit with: bash " << path.string() << "   (prepare, " << opt.shards
              << " shards as a job array, then the merge)\n";
  } else {
    std::cout << "apply its Jobs in order (prepare, shards, merge): see the header of "
              << path.string() << "\n";
  }
}

}  // namespace

void add_study_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "study",
      "Run the whole study: record, train, optimize, evaluate offline, drive every model, report\n"
      "\nExamples:\n"
      "  pitlane study configs/default.yaml\n"
      "  pitlane study configs/quick.yaml --from drive\n"
      "  pitlane study configs/default.yaml --timing \"measured x30\" --name slow-device\n"
      "  pitlane study configs/default.yaml --emit slurm --shards 8   (then: bash "
      "runs/default/slurm.sh)\n"
      "  pitlane study configs/default.yaml --shard 3/8                (one shard; then pitlane "
      "merge runs/default)");
  cmd->footer(
      "\nStages: record, train, dagger, optimize, evaluate, benchmark, drive, report. Each is\n"
      "cached in RUNS_DIR/NAME/stages by a hash of its inputs: a rerun skips what is done,\n"
      "--from STAGE reruns that stage and the ones after it. Results: RUNS_DIR/NAME/results.json\n"
      "(wall-clock figures only under \"wall_clock\" keys), results.md and report.html (the\n"
      "HTML report: pitlane report RUNS_DIR/NAME --help; --no-report leaves it out).\n"
      "\nTiming: by default each model drives with its benchmarked median latency as a fixed\n"
      "latency, so results are reproducible; --timing fixed:MS or \"measured xF\" overrides it.\n"
      "\nShards: every shard shares RUNS_DIR/NAME (a shared filesystem). The shared stages\n"
      "(record, train, dagger) are computed once, by --prepare or the first shard (under a lock);\n"
      "--shard I/N (0 <= I < N) then does its share of the rest (recipes, benchmarks,\n"
      "evaluations, drives) and writes RUNS_DIR/NAME/shards/I-of-N.json; a rerun reuses what\n"
      "it finished. pitlane merge RUNS_DIR/NAME writes the results an unsharded run writes.\n"
      "--emit slurm|k8s --shards N writes RUNS_DIR/NAME/slurm.sh (a job array and the merge)\n"
      "or RUNS_DIR/NAME/k8s.yaml (an Indexed Job and the merge) instead of running anything.");
  struct Options {
    std::string config, from, timing, name, runs_dir, shard, emit;
    std::string image = "pitlane:latest", volume_claim = "pitlane-work";
    int jobs = 0, shards = 0;
    bool quiet = false, prepare = false, no_report = false;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("config", opt->config, "Study config (YAML), e.g. configs/default.yaml")
      ->required();
  cmd->add_option("--from", opt->from, "Rerun from this stage on (ignore its cache)");
  cmd->add_option("--timing", opt->timing,
                  "Override drive.timing: benchmark, fixed:MS or \"measured xF\"");
  cmd->add_option("--name", opt->name, "Override the study's name (its folder under runs_dir)");
  cmd->add_option("--runs-dir", opt->runs_dir, "Override runs_dir");
  cmd->add_option("--jobs", opt->jobs, "Drives run in parallel (default: drive.jobs)")
      ->check(CLI::Range(1, 64))
      ->check(whole_in(1, kMaxThreads));
  cmd->add_flag("--quiet", opt->quiet, "No progress bars or stage log");
  cmd->add_flag("--no-report", opt->no_report,
                "Leave out RUNS_DIR/NAME/report.html (pitlane report writes it later)");
  cmd->add_option(
      "--shard", opt->shard,
      "Run only shard I of N (0-based, e.g. $SLURM_ARRAY_TASK_ID/8); then pitlane merge");
  cmd->add_flag("--prepare", opt->prepare,
                "Run only the stages every shard shares (record, train, dagger)");
  cmd->add_option("--emit", opt->emit,
                  "Write the cluster's job files instead of running: slurm (RUN/slurm.sh) or k8s "
                  "(RUN/k8s.yaml)")
      ->check(CLI::IsMember({"slurm", "k8s"}));
  cmd->add_option("--shards", opt->shards, "With --emit: how many shards")
      ->check(whole_in(1, study::kMaxShards));
  cmd->add_option("--image", opt->image, "With --emit k8s: the container image (pitlane on PATH)");
  cmd->add_option("--volume-claim", opt->volume_claim,
                  "With --emit k8s: the ReadWriteMany PersistentVolumeClaim mounted at /work");
  cmd->callback([opt] {
    study::StudyConfig config = study::load_study_config(opt->config);
    if (!opt->timing.empty()) {
      if (opt->timing != "benchmark") (void)sim::TimingModel::parse(opt->timing);
      config.drive.timing = opt->timing;
    }
    if (!opt->name.empty()) {
      study::check_study_name(opt->name, "--name");
      config.name = opt->name;
    }
    if (!opt->runs_dir.empty()) config.runs_dir = opt->runs_dir;
    if (opt->jobs > 0) config.drive.jobs = opt->jobs;
    if (!opt->emit.empty()) {
      emit_cluster_jobs(*opt, config);
      return;
    }
    if (opt->shards > 0)
      throw InputError("--shards " + std::to_string(opt->shards) +
                       ": only with --emit; a shard is --shard I/N");
    study::StudyOptions options;
    options.from = opt->from;
    options.quiet = opt->quiet;
    options.prepare = opt->prepare;
    if (!opt->shard.empty()) options.shard = study::parse_shard(opt->shard, "--shard");
    const study::StudyResult r = study::run_study(config, options);
    std::cout << r.tables;
    if (options.prepare || options.shard.sharded()) return;
    std::cout << "\nresults: " << (r.run_dir / "results.json").string() << ", "
              << (r.run_dir / "results.md").string() << "\n";
    if (!opt->no_report) write_run_report(r.run_dir, opt->quiet);
  });
}

}  // namespace pitlane::cli
