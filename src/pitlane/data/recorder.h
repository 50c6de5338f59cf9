// Recorder: the expert drives and its camera frames and commands are written as training data,
// in the DeepLearningStudio layout (REFERENCE section 4):
//
//   OUT/<circuit>_<cw|ccw>[_perturbed]/0.png, 1.png, ...   640x480 frames
//   OUT/<circuit>_<cw|ccw>[_perturbed]/data.csv            image_name, v, w, timestamp
//
// One frame per brain iteration (20 Hz). A perturbed recording, like the original's "difficult
// situations", restarts every few hundred frames at a seeded off-centre, mis-headed pose and
// pushes the car off the line now and then, so it holds the expert's recoveries. Each folder is
// written under a temporary name and renamed when complete.
//
//   RecordOptions opt;
//   opt.circuits = {"many_curves", "nurburgring"};
//   opt.both_directions = true;
//   auto summaries = record(opt, "data");
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pitlane/sim/timing.h"

namespace pitlane::data {

struct RecordOptions {
  std::vector<std::string> circuits;  // names or CSV paths
  bool both_directions = false;       // also record counter-clockwise
  bool perturb = false;               // off-centre starts and recovery segments
  int frames = 2000;                  // frames per recording
  int frames_per_start = 400;         // perturbed recordings restart this often
  uint64_t seed = 0;
  sim::TimingModel timing;            // the expert's latency (default fixed:5)
  bool randomize_style = false;       // seeded brightness/hue/noise/fog per segment
  bool show_progress = true;
};

struct RecordingSummary {
  std::string name;                 // folder name
  std::filesystem::path path;
  int frames = 0;
  int episodes = 0;                 // how many starts it took
  double mean_abs_w = 0.0;          // rad/s, a quick look at how curvy the data is
};

std::vector<RecordingSummary> record(const RecordOptions& options, const std::filesystem::path& out_dir);

// The header line data.csv starts with, as the original datasets have it.
inline constexpr const char* kDataCsvHeader = "image_name, v, w, timestamp";

}  // namespace pitlane::data
