// pitlane report / pitlane compare: one self-contained HTML page of a study's run, or of two runs
// side by side with their differences highlighted.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "options.h"
#include "pitlane/report/report.h"

namespace fs = std::filesystem;

namespace pitlane::cli {
namespace {

void add_report_options(CLI::App* cmd, report::ReportOptions& o, bool& quiet) {
  cmd->add_option("--videos", o.videos,
                  "Runs re-driven and filmed per run folder: the baseline, then each variant, on "
                  "the first circuit (0: none)")
      ->capture_default_str()
      ->check(whole_in(0, 100));
  cmd->add_option("--video-seconds", o.video_s,
                  "Simulated seconds per video, around the run's largest deviation")
      ->capture_default_str()
      ->check(finite_in(1, 600));
  cmd->add_option("--video-width", o.video_width, "Video width in pixels (height: 3/4 of it)")
      ->capture_default_str()
      ->check(whole_in(64, 640));
  cmd->add_flag("--quiet", quiet, "No progress lines");
}

void print_result(const report::ReportResult& r) {
  std::printf("wrote %s: %.2f MB (videos %.2f MB, %d re-driven), %.1f s\n", r.out.c_str(),
              static_cast<double>(r.bytes) / 1e6, static_cast<double>(r.video_bytes) / 1e6,
              r.videos, r.seconds);
  if (r.replay_mismatches > 0) {
    std::printf("note: %d re-driven run(s) differ from results.json (see the page's notes)\n",
                r.replay_mismatches);
  }
}

// Every page names the binary that wrote it; progress lines unless --quiet.
report::ReportOptions with_version(report::ReportOptions options, bool quiet) {
  options.code_version = version_text();
  options.progress = !quiet;
  return options;
}

}  // namespace

void write_run_report(const fs::path& run_dir, bool quiet) {
  print_result(report::write_report(run_dir, with_version({}, quiet)));
}

void add_report_command(CLI::App& app) {
  struct Args {
    std::string run_dir, out;
    report::ReportOptions options;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write one self-contained HTML page of a study's run: configuration, versions, offline and "
      "closed-loop tables, Pareto chart, trajectories, latency, per-layer quantization error and "
      "lap videos (re-driven deterministically). Opens offline.\n\nExamples:\n"
      "  pitlane report runs/quick\n"
      "  pitlane report runs/default --out default.html --videos 6");
  cmd->add_option("RUN_DIR", a->run_dir, "The study's run folder (runs/NAME)")->required();
  cmd->add_option("--out", a->out, "The HTML file (default RUN_DIR/report.html)");
  add_report_options(cmd, a->options, a->quiet);
  cmd->callback([a] {
    a->options.out = a->out;
    print_result(report::write_report(a->run_dir, with_version(a->options, a->quiet)));
  });
}

void add_compare_command(CLI::App& app) {
  struct Args {
    std::string run_a, run_b, out = "compare.html";
    report::ReportOptions options;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "compare",
      "Write one HTML page of two study runs side by side, their differences (configuration, "
      "versions, offline and closed-loop results) highlighted\n\nExamples:\n"
      "  pitlane compare runs/default runs/slow-device\n"
      "  pitlane compare runs/a runs/b --out a-vs-b.html --videos 2");
  cmd->add_option("RUN_A", a->run_a, "The first run folder")->required();
  cmd->add_option("RUN_B", a->run_b, "The second run folder")->required();
  cmd->add_option("--out", a->out, "The HTML file")->capture_default_str();
  add_report_options(cmd, a->options, a->quiet);
  cmd->callback([a] {
    a->options.out = a->out;
    print_result(report::write_comparison(a->run_a, a->run_b, with_version(a->options, a->quiet)));
  });
}

}  // namespace pitlane::cli
