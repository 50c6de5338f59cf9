// pitlane: optimize end-to-end driving networks and prove in closed loop that they still drive.
#include <cstdio>
#include <exception>

#include "build_info.h"
#include "commands.h"
#include "pitlane/core/error.h"
#include "pitlane/core/interrupt.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "pitlane: make driving networks small and fast, and prove in closed loop that they drive.\n"
      "\nExamples:\n"
      "  pitlane study configs/default.yaml\n"
      "  pitlane report runs/default\n"
      "  pitlane merge runs/default   (the shards of pitlane study CONFIG --shard I/N)\n"
      "  pitlane drive --circuit simple_circuit --brain explicit\n"
      "  pitlane record --circuits many_curves,nurburgring --out data --both-directions\n"
      "  pitlane circuits\n"
      "  pitlane infer --model pilotnet.onnx --input x.npy --output vw.npy\n"
      "  pitlane bench --model pilotnet.onnx --threads 1 --batch 1"};
  bool version = false;
  app.add_flag("--version", version,
               "Print the version, the git commit, the build type and the CPU features used");
  app.require_subcommand(0, 1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  pitlane::cli::add_circuits_command(app);
  pitlane::cli::add_drive_command(app);
  pitlane::cli::add_record_command(app);
  pitlane::cli::add_render_command(app);
  pitlane::cli::add_infer_command(app);
  pitlane::cli::add_bench_command(app);
  pitlane::cli::add_optimize_command(app);
  pitlane::cli::add_train_command(app);
  pitlane::cli::add_eval_command(app);
  pitlane::cli::add_study_command(app);
  pitlane::cli::add_merge_command(app);
  pitlane::cli::add_report_command(app);
  pitlane::cli::add_compare_command(app);
  try {
    app.parse(argc, argv);
    if (version) {
      std::printf("%s", pitlane::cli::version_text().c_str());
      return 0;
    }
    if (app.get_subcommands().empty()) throw CLI::RequiredError("a subcommand");
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help itself (exit 0); usage errors become one line and exit code 2.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "pitlane: error: %s (see --help)\n",
                 pitlane::printable_message(e.what()).c_str());
    return 2;
  } catch (const pitlane::Interrupted& e) {
    std::fprintf(stderr, "pitlane: %s\n", e.what());
    return e.exit_code();
  } catch (const pitlane::InputError& e) {
    std::fprintf(stderr, "pitlane: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pitlane: failed: %s\n", pitlane::printable_message(e.what()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (...) {
    std::fprintf(stderr, "pitlane: failed: unexpected error\n");
    return 1;
  }
}
