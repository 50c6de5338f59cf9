// The auto recipe: accuracy control by the driving score. Finds the fastest mixed-precision
// model (each Conv/Gemm/MatMul int8 or fp32) that still drives as well as its fp32 parent, judged
// in closed loop on paired, seeded episodes rather than by an offline metric.
//
// The search itself is search.h (testable without models or the simulator); this module plugs
// in the real hooks:
//   - candidates: quant::quantize_layers on the parent prepared and calibrated once (the int8
//     recipe's preparation: every-layer-int8 is the int8 recipe's graph);
//   - offline: each candidate's output against fp32 on the calibration frames;
//   - closed loop: drive::run_drives in parallel, every candidate on the same episodes with one
//     fixed timing model (so a score difference is the numerics' doing, and runs are
//     reproducible to the byte);
//   - latency: runtime::benchmark on the target backend and threads, on a real frame, fp32 and
//     the candidate alternating in rounds (the median of round medians).
//
//   AutotuneOptions o;
//   o.quant.calib = {"rec/many_curves_cw"};
//   AutotuneResult r = autotune_model("pilotnet.onnx", "pilotnet_auto.onnx", o);
//   std::cout << decision_table(r.log);       // r.log: the decision log (JSON)
//
// Determinism: the same inputs and seed give the same model bytes and the same log, except the
// values under "wall_clock" keys (latencies). Latency enters one decision only, "is this
// candidate min_speedup x faster than fp32" (default 1.1x); it flips only when a measured
// speedup lies within the machine's noise of that threshold (int8 PilotNet: about 2.5x).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pitlane/autotune/search.h"
#include "pitlane/quant/optimize.h"
#include "pitlane/runtime/model.h"
#include "pitlane/sim/timing.h"

namespace pitlane::autotune {

// The default study's drive set (configs/default.yaml drive.circuits).
std::vector<std::string> default_circuits();

struct AutotuneOptions {
  // Calibration: calib (required), calib_method, calib_images, seed (also the episodes' seed),
  // report_data (frames the final report compares on). The recipe field is not read.
  quant::OptimizeOptions quant;
  // The drive set: circuits x directions x repetitions; repetition 0 is the nominal start and
  // look, later ones perturb the start (off-centre, mis-headed, anywhere) and the look
  // (lighting, colour, noise, sometimes fog), seeded with seed + repetition as the study does.
  std::vector<std::string> circuits = default_circuits();
  std::vector<std::string> directions = {"cw", "ccw"};
  int repetitions = 2;
  int laps = 1;
  double timeout_s = 0.0;  // 0: the circuit's default
  // The first N episodes (the nominal ones of the first direction come first) rank the layers
  // in closed loop; -1: one per circuit.
  int sensitivity_episodes = -1;
  int budget_laps = 200;
  double confidence = 0.95;
  double margin = 0.0;
  double min_speedup = 1.1;
  sim::TimingModel timing;  // every candidate's latency in simulated time; fixed:MS only
  // The target: where latency is measured and the candidates drive.
  runtime::Backend backend = runtime::Backend::onednn;
  int threads = 1;
  int bench_runs = 200;  // timed runs per round
  int bench_rounds = 3;  // fp32 and the candidate alternating
  int jobs = 2;          // drives in parallel (results do not depend on it)
  bool progress = true;  // progress bars and a line per step on stderr
};

struct AutotuneResult {
  SearchResult search;
  nlohmann::json log;      // the decision log: plan, sensitivity, steps, chosen, wall_clock parts
  nlohmann::json report;   // quant::compare_report of the chosen model (the per-layer debugger)
  int64_t size_bytes = 0;  // the written model
  int64_t fp32_size_bytes = 0;  // its parent
};

// Writes the chosen model to `out` (recipe "auto", pitlane.optimize with "layer_precision" and
// the search's outcome). InputError (one line) for bad options or inputs, before any drive.
AutotuneResult autotune_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const AutotuneOptions& options);

// The decision log in readable form: the layers' sensitivity with the rank correlations, every
// step with its score interval, latency and decision, the chosen model against fp32.
std::string decision_table(const nlohmann::json& log, bool markdown = false);

}  // namespace pitlane::autotune
