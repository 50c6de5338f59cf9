#include "pitlane/data/recorder.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "pitlane/brain/explicit_brain.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/progress.h"
#include "pitlane/sim/episode.h"

namespace pitlane::data {
namespace {

// Writes each iteration's frame and command; stops the episode at its frame budget.
class FrameWriter : public sim::EpisodeObserver {
 public:
  FrameWriter(const std::filesystem::path& dir, std::ofstream& csv, int& next_index, int budget,
              ProgressBar& bar, int total_before)
      : dir_(dir), csv_(csv), next_(next_index), budget_(budget), bar_(bar), before_(total_before) {}

  bool on_iteration(const sim::IterationView& view) override {
    if (written_ >= budget_) return false;
    const std::string name = std::to_string(next_) + ".png";
    if (!cv::imwrite((dir_ / name).string(), *view.frame, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
      throw InputError((dir_ / name).string() + ": cannot write frame; check free space and permissions");
    }
    char row[128];
    std::snprintf(row, sizeof row, "%s, %.6f, %.6f, %.3f\n", name.c_str(), view.command.v,
                  view.command.w, time_offset_s + view.t_us * 1e-6);
    csv_ << row;
    abs_w_sum += std::abs(view.command.w);
    ++next_;
    ++written_;
    bar_.update(before_ + written_);
    return written_ < budget_;
  }

  int written() const { return written_; }
  double time_offset_s = 0.0;  // timestamps continue across restarts
  double abs_w_sum = 0.0;

 private:
  std::filesystem::path dir_;
  std::ofstream& csv_;
  int& next_;
  int budget_;
  ProgressBar& bar_;
  int before_;
  int written_ = 0;
};

}  // namespace

std::vector<RecordingSummary> record(const RecordOptions& options, const std::filesystem::path& out_dir) {
  if (options.circuits.empty()) throw InputError("record: no circuits given; use --circuits a,b");
  if (options.frames < 1) throw InputError("record: --frames must be at least 1");
  std::vector<track::Direction> directions = {track::Direction::kClockwise};
  if (options.both_directions) directions.push_back(track::Direction::kCounterClockwise);

  // Load every circuit first so a bad name fails before anything is written.
  std::vector<track::Circuit> circuits;
  for (const auto& name : options.circuits) {
    for (auto d : directions) circuits.push_back(track::load_circuit(name, d));
  }
  check_writable(out_dir / "x");

  std::vector<RecordingSummary> summaries;
  uint64_t seed = options.seed;
  for (const track::Circuit& circuit : circuits) {
    RecordingSummary summary;
    summary.name = circuit.name() + "_" + std::string(track::to_string(circuit.direction())) +
                   (options.perturb ? "_perturbed" : "");
    summary.path = out_dir / summary.name;
    StagedDir staged(summary.path);
    std::ofstream csv(staged.path() / "data.csv");
    if (!csv) throw InputError((summary.path / "data.csv").string() + ": cannot write");
    csv << kDataCsvHeader << "\n";

    sim::Renderer renderer(circuit);
    brain::ExplicitBrain expert;
    ProgressBar bar("record " + summary.name, options.frames, "frames", options.show_progress);
    int index = 0;
    double t_offset = 0.0, abs_w = 0.0;
    while (index < options.frames) {
      sim::EpisodeConfig config;
      config.seed = seed++;
      config.timing = options.timing;
      config.laps = 1000;  // the frame budget ends the episode, or a failure does
      config.timeout_s = 1e9;
      config.randomize_style = options.randomize_style;
      int budget = options.frames - index;
      if (options.perturb) {
        config.random_start = true;
        config.perturbation = {0.5, 0.25, 1.1};
        config.disturbance.mean_interval_s = 4.0;
        budget = std::min(budget, options.frames_per_start);
      }
      FrameWriter writer(staged.path(), csv, index, budget, bar, index);
      writer.time_offset_s = t_offset;
      const sim::EpisodeResult r = sim::run_episode(circuit, renderer, expert, config, &writer);
      t_offset += r.metrics.sim_time_s + 1.0;
      abs_w += writer.abs_w_sum;
      ++summary.episodes;
      if (writer.written() == 0) {
        throw RunError(summary.name + ": the expert produced no frames; the circuit may be undrivable");
      }
    }
    bar.finish();
    csv.close();
    if (!csv) throw RunError((summary.path / "data.csv").string() + ": write failed (disk full?)");
    staged.commit();
    summary.frames = index;
    summary.mean_abs_w = abs_w / index;
    summaries.push_back(summary);
  }
  return summaries;
}

}  // namespace pitlane::data
