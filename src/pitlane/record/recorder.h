// Recorder: the expert drives and its camera frames and commands are written as training data,
// in the DeepLearningStudio layout (REFERENCE section 4):
//
//   OUT/<circuit>_<cw|ccw>[_perturbed]/0.png, 1.png, ...   640x480 frames
//   OUT/<circuit>_<cw|ccw>[_perturbed]/data.csv            image_name, v, w, timestamp
//
// One frame per brain iteration (20 Hz). A perturbed recording, like the original's "difficult
// situations", restarts every few hundred frames at a seeded off-centre, mis-headed pose and
// pushes the car off the line now and then, so it holds the expert's recoveries. Each folder is
// written under a temporary name and renamed when complete; Ctrl-C or SIGTERM stops the recording
// with Interrupted (core/interrupt.h) after removing the unfinished folder.
//
// With a learner (DAgger, Ross et al. 2011) the learner drives and the expert only labels: every
// frame is the learner's own view of the road, the label what the expert would have done there,
// so the data covers the states the learner actually gets itself into. With probability
// expert_share an iteration executes the expert's command instead, which keeps an early learner
// on the road long enough to see the whole circuit.
//
//   RecordOptions opt;
//   opt.circuits = {"many_curves", "nurburgring"};
//   opt.directions = {track::Direction::kClockwise, track::Direction::kCounterClockwise};
//   auto summaries = record(opt, "data");
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pitlane/sim/brain.h"
#include "pitlane/sim/timing.h"
#include "pitlane/track/circuit.h"

namespace pitlane::record {

struct RecordOptions {
  std::vector<std::string> circuits;  // names or CSV paths
  std::vector<track::Direction> directions = {track::Direction::kClockwise};
  bool perturb = false;        // off-centre starts and recovery segments
  int frames = 2000;           // frames per recording
  int frames_per_start = 400;  // perturbed recordings restart this often
  uint64_t seed = 0;
  sim::TimingModel timing;       // the expert's latency (default fixed:5)
  bool randomize_style = false;  // seeded brightness/hue/noise/fog per segment
  bool show_progress = true;
  // DAgger: when set, this brain drives and the expert labels (folders get a "_dagger" suffix).
  sim::Brain* learner = nullptr;
  double expert_share = 0.0;  // probability that an iteration executes the expert's command
};

struct RecordingSummary {
  std::string name;  // folder name
  std::filesystem::path path;
  int frames = 0;
  int episodes = 0;         // how many starts it took
  double mean_abs_w = 0.0;  // rad/s, a quick look at how curvy the data is
};

std::vector<RecordingSummary> record(const RecordOptions& options,
                                     const std::filesystem::path& out_dir);

// The header line data.csv starts with, as the original datasets have it.
inline constexpr const char* kDataCsvHeader = "image_name, v, w, timestamp";

}  // namespace pitlane::record
