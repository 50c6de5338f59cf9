// pitlane drive: one closed-loop run of a brain on a circuit; metrics table and JSON.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "options.h"
#include "pitlane/brain/explicit_brain.h"
#include "pitlane/brain/neural_brain.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/table.h"
#include "pitlane/sim/episode.h"
#include "pitlane/sim/video.h"

namespace pitlane::cli {
namespace {

struct BrainOptions {
  std::string backend = "auto", preprocess, outputs;
  int threads = 1;
};

std::unique_ptr<sim::Brain> make_brain(const std::string& spec, const BrainOptions& options) {
  if (spec == "explicit") return std::make_unique<brain::ExplicitBrain>();
  if (std::filesystem::path(spec).extension() == ".onnx") {
    if (!std::filesystem::exists(spec)) {
      throw InputError(spec + ": no such model file; give an ONNX model or 'explicit'");
    }
    brain::NeuralBrainOptions o;
    o.backend = runtime::parse_backend(options.backend);
    o.threads = options.threads;
    o.preprocess_json = options.preprocess;
    o.outputs_json = options.outputs;
    return std::make_unique<brain::NeuralBrain>(spec, o);
  }
  throw InputError("brain '" + spec + "' is not known; use explicit or a MODEL.onnx file");
}

// results.json -> results.timing.json
std::filesystem::path timing_path(const std::filesystem::path& results) {
  std::filesystem::path p = results;
  p.replace_extension();
  return p.string() + ".timing.json";
}

struct DriveArgs {
  std::string circuit = "simple_circuit", brain = "explicit", direction = "cw";
  std::string timing = "fixed:5", out, video, trajectory, line = "red";
  int laps = 1;
  uint64_t seed = 0;
  bool random_start = false, randomize_style = false, quiet = false, require_completed = false;
  double timeout = 0.0;
  BrainOptions brain_options;
};

sim::EpisodeConfig episode_config(const DriveArgs& a) {
  sim::EpisodeConfig config;
  config.laps = a.laps;
  config.seed = a.seed;
  config.timing = sim::TimingModel::parse(a.timing);
  config.random_start = a.random_start;
  config.randomize_style = a.randomize_style;
  config.style.line = sim::parse_line_style(a.line);
  config.timeout_s = a.timeout;
  config.record_trajectory = !a.trajectory.empty();
  return config;
}

void run_drive(const DriveArgs& a) {
  // Check outputs before the run, not after minutes of driving: writable, and none an input.
  const std::filesystem::path outputs[] = {
      a.out, a.out.empty() ? std::filesystem::path() : timing_path(a.out), a.video, a.trajectory};
  for (const auto& out : outputs) {
    if (out.empty()) continue;
    check_writable(out);
    check_not_an_input(out, {a.circuit, a.brain});
  }
  const sim::EpisodeConfig config = episode_config(a);
  const track::Circuit circuit =
      track::load_circuit(a.circuit, track::parse_direction(a.direction));
  auto brain = make_brain(a.brain, a.brain_options);
  std::unique_ptr<sim::LapVideo> video;
  if (!a.video.empty()) video = std::make_unique<sim::LapVideo>(a.video, circuit);

  sim::Renderer renderer(circuit);
  const sim::EpisodeResult result =
      sim::run_episode(circuit, renderer, *brain, config, video.get());
  if (video) video->finish();
  if (!a.trajectory.empty()) sim::write_trajectory(a.trajectory, result.trajectory);
  if (!a.out.empty()) {
    write_file_atomic(a.out, sim::to_json(result.metrics).dump(2) + "\n");
    write_file_atomic(timing_path(a.out), sim::to_json(result.timing).dump(2) + "\n");
  }
  if (!a.quiet) {
    std::cout << sim::format_table(result.metrics);
    std::cout << "wall " << result.timing.wall_time_s << " s, " << result.timing.real_time_factor
              << "x real time, render " << result.timing.render_ms_mean << " ms/frame\n";
  }
  const sim::RunMetrics& m = result.metrics;
  if (a.require_completed && m.completed_laps < m.laps_requested) {
    throw RunError("the car did not complete " + std::to_string(m.laps_requested) + " lap" +
                   (m.laps_requested > 1 ? "s" : "") + ": " + m.termination + " at " +
                   format_fixed(100.0 * m.completed_fraction, 1) + "% (--require-completed)");
  }
}

}  // namespace

void add_drive_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("drive", "Drive a brain around a circuit in closed loop");
  cmd->footer(
      "\nExamples:\n"
      "  pitlane drive --circuit simple_circuit --brain explicit\n"
      "  pitlane drive --circuit montreal --direction ccw --laps 2 --out runs/montreal.json\n"
      "  pitlane drive --circuit my_track.csv --timing fixed:20 --video lap.webm\n"
      "  pitlane drive --circuit nurburgring --random-start --seed 7 --randomize-style\n"
      "  pitlane drive --circuit montreal --brain pilotnet.onnx --timing \"measured x30\"\n"
      "  pitlane drive --circuit montmelo --brain int8.onnx --require-completed \\\n"
      "      --out montmelo.json --trajectory montmelo.csv.gz\n"
      "\nTiming: fixed:MS (deterministic, default fixed:5), measured, measured x30 (emulates a\n"
      "device 30x slower), realtime. Deterministic results go to --out; wall-clock figures go\n"
      "beside it to NAME.timing.json.");
  auto opt = std::make_shared<DriveArgs>();
  cmd->add_option("--circuit", opt->circuit, "Built-in circuit name or CSV path")
      ->capture_default_str();
  cmd->add_option("--brain", opt->brain, "explicit (the expert) or MODEL.onnx")
      ->capture_default_str();
  cmd->add_option("--backend", opt->brain_options.backend,
                  "Runtime backend for a model: auto, reference, onednn")
      ->capture_default_str();
  cmd->add_option("--threads", opt->brain_options.threads, "Inference threads for a model")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--preprocess", opt->brain_options.preprocess,
                  "JSON overriding the model's preprocessing, e.g. '{\"color\":\"bgr\"}'");
  cmd->add_option(
      "--outputs", opt->brain_options.outputs,
      "JSON overriding the model's output ranges, e.g. '{\"min\":[0,-3],\"max\":[10,3]}'");
  cmd->add_option("--direction", opt->direction, "cw or ccw")->capture_default_str();
  cmd->add_option("--laps", opt->laps, "Laps to drive")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--seed", opt->seed, "Seed for the start, style and noise")
      ->capture_default_str();
  cmd->add_option("--timing", opt->timing, "fixed:MS | measured[ xF] | realtime")
      ->capture_default_str();
  cmd->add_option("--timeout", opt->timeout,
                  "Seconds of simulated time (default, 0: 1.1 x reference lap x laps)")
      ->check(finite_in(0.0, 1e6));
  cmd->add_flag("--random-start", opt->random_start, "Start at a seeded random, perturbed pose");
  cmd->add_flag("--randomize-style", opt->randomize_style, "Seeded brightness/hue/noise/fog");
  cmd->add_option("--line", opt->line, "Centre line: red, white or none")->capture_default_str();
  cmd->add_option("--out", opt->out, "Write the results JSON here (and NAME.timing.json)");
  cmd->add_option("--video", opt->video,
                  "Write a video of the camera with a HUD (.webm/.avi/.mp4)");
  cmd->add_option("--trajectory", opt->trajectory,
                  "Write the per-step trajectory here as gzip CSV (e.g. lap.csv.gz)");
  cmd->add_flag("--require-completed", opt->require_completed,
                "Exit 1 when the laps are not completed (trapped, timed out): for scripts and CI");
  cmd->add_flag("--quiet", opt->quiet, "Print no table");
  cmd->callback([opt] { run_drive(*opt); });
}

}  // namespace pitlane::cli
