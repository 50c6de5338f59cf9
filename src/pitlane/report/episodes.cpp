#include "pitlane/report/episodes.h"

#include <algorithm>
#include <memory>

#include "pitlane/core/error.h"
#include "pitlane/drive/drive_runner.h"
#include "pitlane/sim/renderer.h"
#include "pitlane/track/circuit.h"

namespace pitlane::report {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string short_value(const Json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

}  // namespace

EpisodeSpec episode_spec(const fs::path& run_dir, const Json& results, const Json& run) {
  EpisodeSpec spec;
  spec.model = run.value("model", "");
  spec.circuit = run.value("circuit", "");
  spec.direction = run.value("direction", "cw");
  spec.slowdown = run.value("slowdown", 1.0);
  spec.repetition = run.value("repetition", 0);
  const Json metrics = run.value("metrics", Json::object());
  spec.recorded = metrics.dump();
  spec.seed = metrics.value("seed", uint64_t{0});
  spec.laps = metrics.value("laps_requested", 1);
  const Json drive = results["config"].value("drive", Json::object());
  spec.timeout_s = drive.value("timeout_s", 0.0);
  const std::string where = (run_dir / "results.json").string();
  if (spec.repetition > 0) {
    // Results written before drive.perturb existed perturbed the start of later repetitions.
    const Json perturb = drive.value("perturb", Json::array({"start"}));
    auto has = [&](const char* kind) {
      return std::find(perturb.begin(), perturb.end(), Json(kind)) != perturb.end();
    };
    spec.perturb_start = has("start");
    spec.perturb_style = has("style");
    spec.weather = has("weather");
  }

  double latency_ms = -1.0;  // the benchmarked latency the study drove with
  if (spec.model == "expert") {
    if (results.contains("expert_latency"))
      latency_ms = results["expert_latency"].value("latency_ms", -1.0);
  } else {
    for (const auto& row : results["offline"]) {
      if (row.value("model", "") != spec.model) continue;
      spec.file = run_dir / row.value("file", "");
      latency_ms = row.value("latency_ms", -1.0);
    }
    if (spec.file.empty() || !fs::is_regular_file(spec.file)) {
      throw InputError(where + ": the model '" + spec.model + "' has no file in the run folder (" +
                       spec.file.string() + "); rerun the study so that its models are there");
    }
  }
  const std::string timing = drive.value("timing", "benchmark");
  if (timing == "benchmark") {
    if (latency_ms < 0) {
      throw InputError(where + ": no benchmarked latency for '" + spec.model +
                       "'; rerun the study's benchmark stage (pitlane study CONFIG --from "
                       "benchmark)");
    }
    spec.timing.fixed_ms = latency_ms * spec.slowdown;
  } else {
    spec.timing = sim::TimingModel::parse(timing);
    if (spec.timing.kind == sim::TimingModel::Kind::kFixed) spec.timing.fixed_ms *= spec.slowdown;
    if (spec.timing.kind == sim::TimingModel::Kind::kMeasured) spec.timing.factor *= spec.slowdown;
  }
  return spec;
}

Replay replay(const EpisodeSpec& spec, sim::EpisodeObserver* observer) {
  const track::Circuit circuit =
      track::load_circuit(spec.circuit, track::parse_direction(spec.direction));
  // The study's drive, set up as drive/ set it up when the study drove it.
  drive::DriveJob job;
  job.model = spec.model;
  job.file = spec.file;
  job.timing = spec.timing;
  job.circuit = spec.circuit;
  job.direction = spec.direction;
  job.seed = spec.seed;
  job.perturb_start = spec.perturb_start;
  job.perturb_style = spec.perturb_style;
  job.weather = spec.weather;
  job.laps = spec.laps;
  job.timeout_s = spec.timeout_s;
  const std::unique_ptr<sim::Brain> brain = drive::make_brain(job);
  sim::EpisodeConfig config = drive::episode_config(job);
  config.record_trajectory = true;
  sim::Renderer renderer(circuit);
  Replay out;
  out.result = sim::run_episode(circuit, renderer, *brain, config, observer);
  out.result.metrics.brain = spec.model;

  const Json now = sim::to_json(out.result.metrics);
  const Json recorded = Json::parse(spec.recorded);
  out.matches = now == recorded;
  if (!out.matches) {
    for (const auto& [key, value] : recorded.items()) {
      if (!now.contains(key) || now[key] != value) {
        out.difference = key + ": " + short_value(value) + " -> " +
                         (now.contains(key) ? short_value(now[key]) : std::string("absent"));
        break;
      }
    }
    if (out.difference.empty()) out.difference = "the metrics have other keys now";
  }
  return out;
}

}  // namespace pitlane::report
