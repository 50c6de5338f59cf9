// The pitlane CLI: one function per subcommand that adds it to the app. Each subcommand parses
// its flags, calls one library entry point and prints; the work itself lives in src/pitlane.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace pitlane::cli {

void add_circuits_command(CLI::App& app);
void add_render_command(CLI::App& app);
void add_drive_command(CLI::App& app);
void add_record_command(CLI::App& app);
void add_infer_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_optimize_command(CLI::App& app);  // cmd_optimize.cpp
void add_train_command(CLI::App& app);     // cmd_train.cpp
void add_eval_command(CLI::App& app);      // cmd_eval.cpp
void add_study_command(CLI::App& app);     // cmd_study.cpp
void add_merge_command(CLI::App& app);     // cmd_merge.cpp
void add_report_command(CLI::App& app);    // cmd_report.cpp
void add_compare_command(CLI::App& app);   // cmd_report.cpp

// `pitlane --version`: version, commit, build type, compiler and CPU features (version.cpp).
std::string version_text();
// RUN_DIR/report.html with `pitlane report`'s defaults and a line saying where (cmd_report.cpp):
// the end of `pitlane study` and `pitlane merge`.
void write_run_report(const std::filesystem::path& run_dir, bool quiet);

}  // namespace pitlane::cli
