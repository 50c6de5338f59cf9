// Lap clips for the report: a few seconds of a re-driven run, filmed by the simulator's LapVideo
// (the camera view with its heads-up display and mini-map) small enough to inline in a web page.
//
// The clip is H.264 in MP4 (about 20 to 40 kB a second at 320x240), or VP8 in WebM where this
// build cannot write H.264; the file is read back to check its codec, since an MP4 writer without
// H.264 may fall back to MPEG-4 part 2 ("mp4v"), which plays in no browser.
//
//   double t0 = clip_start(replay.result.trajectory, 10.0);
//   Clip c = record_clip(spec, t0, t0 + 10.0, 320, work_dir);   // c.bytes: the file's bytes
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "pitlane/report/episodes.h"
#include "pitlane/sim/trajectory.h"

namespace pitlane::report {

struct Clip {
  std::string mime;    // "video/mp4" | "video/webm"
  std::string codec;   // "H.264" | "VP8"
  std::string bytes;   // the encoded file
  double start_s = 0;  // the window of the run it shows, simulated seconds
  double end_s = 0;
  int frames = 0;  // frames in the clip (20 per simulated second)
  int width = 0, height = 0;
};

// Where a clip of `length_s` should start: centred on the run's largest deviation from the
// centre line (where a run that fails leaves the road), kept inside the run, on a camera frame.
double clip_start(std::span<const sim::TrajectorySample> trajectory, double length_s);

// Re-drives `spec` up to end_s and films [start_s, end_s) at `width` x 3/4 width (even sizes).
// Temporary files go to `work_dir` (created; the caller removes it). RunError when no browser
// codec can be written.
Clip record_clip(const EpisodeSpec& spec, double start_s, double end_s, int width,
                 const std::filesystem::path& work_dir);

}  // namespace pitlane::report
