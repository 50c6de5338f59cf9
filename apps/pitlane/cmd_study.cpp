// pitlane study: the whole study from one config; tables on stdout, files in RUNS_DIR/NAME.
#include <iostream>
#include <memory>

#include "commands.h"
#include "options.h"
#include "pitlane/sim/timing.h"
#include "pitlane/study/config.h"
#include "pitlane/study/study.h"

namespace pitlane::cli {

void add_study_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "study",
      "Run the whole study: record, train, optimize, evaluate offline, drive every model, report\n"
      "\nExamples:\n"
      "  pitlane study configs/default.yaml\n"
      "  pitlane study configs/quick.yaml --from drive\n"
      "  pitlane study configs/default.yaml --timing \"measured x30\" --name slow-device");
  cmd->footer(
      "\nStages: record, train, dagger, optimize, evaluate, benchmark, drive, report. Each is\n"
      "cached in RUNS_DIR/NAME/stages by a hash of its inputs: a rerun skips what is done,\n"
      "--from STAGE reruns that stage and the ones after it. Results: RUNS_DIR/NAME/results.json\n"
      "(wall-clock figures only under \"wall_clock\" keys) and results.md.\n"
      "\nTiming: by default each model drives with its benchmarked median latency as a fixed\n"
      "latency, so results are reproducible; --timing fixed:MS or \"measured xF\" overrides it.");
  struct Options {
    std::string config, from, timing, name, runs_dir;
    int jobs = 0;
    bool quiet = false;
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
    study::StudyOptions options;
    options.from = opt->from;
    options.quiet = opt->quiet;
    const study::StudyResult r = study::run_study(config, options);
    std::cout << r.tables;
    std::cout << "\nresults: " << (r.run_dir / "results.json").string() << ", "
              << (r.run_dir / "results.md").string() << "\n";
  });
}

}  // namespace pitlane::cli
