#include "pitlane/record/recorder.h"

#include "pitlane/data/image_writer.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "pitlane/brain/explicit_brain.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/core/interrupt.h"
#include "pitlane/core/progress.h"
#include "pitlane/core/rng.h"
#include "pitlane/sim/episode.h"

namespace pitlane::record {
namespace {

// What drives while recording: the expert alone, or a learner labelled by the expert (DAgger).
// The expert sees every frame either way, so its label is always the expert's own answer.
class LabelledDriver : public sim::Brain {
 public:
  LabelledDriver(sim::Brain* learner, double expert_share, uint64_t seed)
      : learner_(learner), expert_share_(expert_share), rng_(seed) {}

  std::string name() const override { return learner_ ? learner_->name() : expert_.name(); }
  void reset() override {
    expert_.reset();
    if (learner_) learner_->reset();
  }
  sim::Command act(const cv::Mat& frame_bgr) override {
    label_ = expert_.act(frame_bgr);
    if (!learner_) return label_;
    const sim::Command own = learner_->act(frame_bgr);
    return rng_.uniform() < expert_share_ ? label_ : own;
  }
  double last_inference_ms() const override {
    return learner_ ? learner_->last_inference_ms() : expert_.last_inference_ms();
  }
  const sim::Command& label() const { return label_; }

 private:
  brain::ExplicitBrain expert_;
  sim::Brain* learner_;
  double expert_share_;
  Rng rng_;
  sim::Command label_;
};

// Writes each iteration's frame and the expert's label; stops the episode at its frame budget.
class FrameWriter : public sim::EpisodeObserver {
 public:
  FrameWriter(const LabelledDriver& driver, const std::filesystem::path& dir,
              data::ImageWriter& images, std::ofstream& csv, int& next_index, int budget,
              ProgressBar& bar, int total_before, const InterruptScope& interrupts)
      : driver_(driver),
        dir_(dir),
        images_(images),
        csv_(csv),
        next_(next_index),
        budget_(budget),
        bar_(bar),
        before_(total_before),
        interrupts_(interrupts) {}

  bool on_iteration(const sim::IterationView& view) override {
    interrupts_.check();  // Ctrl-C: unwind, so the staged folder is removed
    if (written_ >= budget_) return false;
    const std::string name = std::to_string(next_) + ".png";
    images_.write(dir_ / name, *view.frame);
    const sim::Command& label = driver_.label();
    char row[128];
    std::snprintf(row, sizeof row, "%s, %.6f, %.6f, %.3f\n", name.c_str(), label.v, label.w,
                  time_offset_s + view.t_us * 1e-6);
    csv_ << row;
    abs_w_sum += std::abs(label.w);
    ++next_;
    ++written_;
    bar_.update(before_ + written_);
    return written_ < budget_;
  }

  int written() const { return written_; }
  double time_offset_s = 0.0;  // timestamps continue across restarts
  double abs_w_sum = 0.0;

 private:
  const LabelledDriver& driver_;
  std::filesystem::path dir_;
  data::ImageWriter& images_;
  std::ofstream& csv_;
  int& next_;
  int budget_;
  ProgressBar& bar_;
  int before_;
  const InterruptScope& interrupts_;
  int written_ = 0;
};

}  // namespace

std::vector<RecordingSummary> record(const RecordOptions& options,
                                     const std::filesystem::path& out_dir) {
  if (options.circuits.empty()) throw InputError("record: no circuits given; use --circuits a,b");
  if (options.frames < 1) throw InputError("record: --frames must be at least 1");
  if (!(options.expert_share >= 0.0 && options.expert_share <= 1.0)) {
    throw InputError("record: --expert-share must be in [0, 1]");
  }
  if (options.directions.empty())
    throw InputError("record: no directions given; use cw and/or ccw");

  // Load every circuit first so a bad name fails before anything is written.
  std::vector<track::Circuit> circuits;
  for (const auto& name : options.circuits) {
    for (auto d : options.directions) circuits.push_back(track::load_circuit(name, d));
  }
  check_writable(out_dir / "x");

  const InterruptScope interrupts;
  std::vector<RecordingSummary> summaries;
  uint64_t seed = options.seed;
  for (const track::Circuit& circuit : circuits) {
    RecordingSummary summary;
    summary.name = circuit.name() + "_" + std::string(track::to_string(circuit.direction())) +
                   (options.perturb ? "_perturbed" : "") + (options.learner ? "_dagger" : "");
    summary.path = out_dir / summary.name;
    StagedDir staged(summary.path);
    std::ofstream csv(staged.path() / "data.csv");
    if (!csv) throw InputError((summary.path / "data.csv").string() + ": cannot write");
    csv << kDataCsvHeader << "\n";

    sim::Renderer renderer(circuit);
    LabelledDriver driver(options.learner, options.expert_share, seed ^ 0x5DA66E7ull);
    ProgressBar bar("record " + summary.name, options.frames, "frames", options.show_progress);
    data::ImageWriter images(/*threads=*/2);
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
      FrameWriter writer(driver, staged.path(), images, csv, index, budget, bar, index, interrupts);
      writer.time_offset_s = t_offset;
      const sim::EpisodeResult r = sim::run_episode(circuit, renderer, driver, config, &writer);
      t_offset += r.metrics.sim_time_s + 1.0;
      abs_w += writer.abs_w_sum;
      ++summary.episodes;
      if (writer.written() == 0) {
        throw RunError(summary.name +
                       ": the expert produced no frames; the circuit may be undrivable");
      }
    }
    images.finish();
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

}  // namespace pitlane::record
