// pitlane report: one self-contained HTML page of a study's run, or two runs side by side.
//
// The page holds the study's configuration, the code and metric versions and the machine, the
// offline table, the closed-loop table (mean and 95% interval per variant, paired verdicts vs the
// baseline when results.json has them), a Pareto chart of latency, driving score and size, per
// circuit the trajectories of every variant over the circuit's map and the deviation and speed
// along the lap, the latency figures, the per-layer quantization error of each optimized model,
// and a few lap videos. Charts are Apache ECharts, inlined; the file opens with no network.
//
// The study stores no videos: the runs shown as video (the baseline and the variants on the
// first circuit, first direction, repetition 0, device x1) are driven again, exactly as the
// study drove them, and checked against the stored metrics (the page says when one differs).
//
//   ReportResult r = write_report("runs/quick", {.code_version = version_text()});
//   ReportResult c = write_comparison("runs/a", "runs/b", {.out = "compare.html"});
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace pitlane::report {

struct ReportOptions {
  std::filesystem::path out;  // "" = RUN_DIR/report.html (compare: ./compare.html)
  std::string code_version;   // `pitlane --version` of the binary writing it ("" = not given)
  int videos = 4;             // runs re-driven as lap videos, per run folder (0 = none)
  double video_s = 10.0;      // simulated seconds per video
  int video_width = 320;      // px; the height is 3/4 of it
  size_t max_trajectory_points = 1200;  // per drawn run
  bool progress = false;                // a line per re-drive on stderr
};

struct ReportResult {
  std::filesystem::path out;
  size_t bytes = 0;        // the page
  size_t video_bytes = 0;  // the videos' encoded bytes in it (base64 adds a third)
  int videos = 0;
  int replays = 0;            // runs driven again
  int replay_mismatches = 0;  // of which the metrics differ from results.json
  double seconds = 0.0;
  std::vector<std::string> notes;  // what the page says is missing or differs
};

// InputError (naming the file and the fix) for a folder without a study's results.json or an
// output that cannot be written.
ReportResult write_report(const std::filesystem::path& run_dir, const ReportOptions& options);
ReportResult write_comparison(const std::filesystem::path& run_a,
                              const std::filesystem::path& run_b, const ReportOptions& options);

}  // namespace pitlane::report
