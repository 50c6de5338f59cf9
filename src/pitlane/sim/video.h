// LapVideo: a video of a run as the brain saw it, with a heads-up display.
//
// An EpisodeObserver that writes the camera frame of every brain iteration (repeated so the video
// keeps the simulation's 20 Hz clock even when the brain is slower), overlaid with v, w, speed,
// lap progress, the offset from the centre line and a mini-map of the circuit with the car on it.
// The container follows the file's extension: .webm (VP8), .avi (MJPEG) or .mp4 (MPEG-4).
//
//   LapVideo video("lap.webm", circuit);
//   run_episode(circuit, renderer, brain, config, &video);
//   video.finish();
#pragma once

#include <filesystem>
#include <memory>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "pitlane/sim/episode.h"

namespace pitlane::sim {

class LapVideo : public EpisodeObserver {
 public:
  // Opens the writer (to a temporary name, renamed by finish()); InputError if it cannot.
  LapVideo(std::filesystem::path path, const track::Circuit& circuit);
  ~LapVideo() override;

  bool on_iteration(const IterationView& view) override;
  void finish();
  int64_t frames_written() const { return frames_; }

 private:
  void draw_hud(cv::Mat& image, const IterationView& view) const;

  std::filesystem::path path_, temp_;
  cv::VideoWriter writer_;
  cv::Mat minimap_;               // the circuit drawn once
  Vec2 map_origin_;               // world point at the minimap's lower-left corner
  double map_scale_ = 1.0;        // px per metre
  cv::Mat canvas_;
  int64_t frames_ = 0;
  bool finished_ = false;
};

}  // namespace pitlane::sim
