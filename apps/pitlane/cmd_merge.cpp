// pitlane merge: a sharded study's results, put together as an unsharded run writes them.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "pitlane/study/merge.h"

namespace pitlane::cli {

void add_merge_command(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  auto no_report = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "merge",
      "Merge the shards of a study (pitlane study CONFIG --shard I/N) into its results.json and "
      "results.md\n\nExamples:\n"
      "  pitlane merge runs/default\n"
      "  pitlane merge runs/default/shards/0-of-2.json runs/default/shards/1-of-2.json");
  cmd->footer(
      "\nEvery shard 0..N-1 must have finished (RUN/shards/I-of-N.json) with the same config,\n"
      "code and plan; otherwise the merge names the shard to rerun (exit 2). The merged\n"
      "results.json has the bytes of an unsharded run's except the wall-clock values (under\n"
      "\"wall_clock\" keys). The merged stages go into RUN/stages, so the unsharded command\n"
      "reuses them. RUN/report.html is written as pitlane study writes it.");
  cmd->add_option("runs", *paths, "The run folder (RUNS_DIR/NAME) or its shard manifests")
      ->required();
  cmd->add_flag("--quiet", *quiet, "No progress lines");
  cmd->add_flag("--no-report", *no_report, "Leave out RUN/report.html");
  cmd->callback([paths, quiet, no_report] {
    const std::vector<std::filesystem::path> inputs(paths->begin(), paths->end());
    const study::MergeResult r = study::merge_shards(inputs);
    std::cout << r.tables;
    std::cout << "\nmerged " << r.shards
              << " shards; results: " << (r.run_dir / "results.json").string() << ", "
              << (r.run_dir / "results.md").string() << "\n";
    if (!*no_report) write_run_report(r.run_dir, *quiet);
  });
}

}  // namespace pitlane::cli
