// LapVideo: a video of a run as the brain saw it, with a heads-up display.
//
// An EpisodeObserver that writes the camera frame of every brain iteration (repeated so the video
// keeps the simulation's 20 Hz clock even when the brain is slower), scaled to the video's size
// (320x240 by default) and overlaid with v, w, speed, lap progress, the offset from the centre
// line and a mini-map of the circuit with the car on it.
//
// The container follows the file's extension: .webm (VP8) and .mp4 (H.264) play in browsers;
// .avi (MJPEG) does not. on_iteration() only copies the frame and the HUD's numbers into a
// bounded queue; a background thread scales, draws and encodes, so the run waits only when the
// encoder falls 8 frames behind. FFmpeg's encoders (linked directly: OpenCV cannot set their
// presets) run at fixed fast settings (x264 ultrafast, VP8 realtime speed 16, one thread,
// bit-exact muxing; about 1 ms a frame at 320x240), so the same run writes the same bytes.
//
//   LapVideo video("lap.webm", circuit);
//   run_episode(circuit, renderer, brain, config, &video);
//   video.finish();
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "pitlane/sim/episode.h"

namespace pitlane::sim {

class LapVideo : public EpisodeObserver {
 public:
  // Opens the encoder (to a temporary name, renamed by finish()); InputError if it cannot.
  LapVideo(std::filesystem::path path, const track::Circuit& circuit, cv::Size size = {320, 240});
  ~LapVideo() override;
  LapVideo(const LapVideo&) = delete;
  LapVideo& operator=(const LapVideo&) = delete;

  // Queues the frame; rethrows an error of the encoder thread.
  bool on_iteration(const IterationView& view) override;
  // Waits for the encoder, closes the file and moves it into place; rethrows the encoder's error.
  void finish();
  // Video frames queued so far; all of them are in the file after finish().
  int64_t frames_written() const { return frames_; }

 private:
  class Encoder;  // the codec and container behind the file (defined in video.cpp)
  // What the HUD shows, copied from the IterationView.
  struct Hud {
    Command command;
    double speed_mps = 0.0, t_s = 0.0, progress = 0.0, lateral_m = 0.0;
    Pose2 pose;
  };
  struct Job {
    cv::Mat frame;  // the camera frame, BGR, as rendered
    Hud hud;
    int64_t repeats = 1;  // video frames it stands for
  };
  void encode_jobs();  // the background thread
  void draw_hud(cv::Mat& image, const Hud& hud) const;
  void stop();  // ends the thread (the queue drained) and joins it

  std::filesystem::path path_, temp_;
  cv::Size size_;
  std::unique_ptr<Encoder> encoder_;
  cv::Mat minimap_;         // the circuit drawn once
  Vec2 map_origin_;         // world point at the minimap's lower-left corner
  double map_scale_ = 1.0;  // px per metre
  int64_t frames_ = 0;
  bool finished_ = false;

  // The queue between on_iteration() and the encoder thread; `spare` recycles frame buffers.
  static constexpr size_t kMaxQueued = 8;
  std::mutex mutex_;
  std::condition_variable has_work_, has_room_;
  std::deque<Job> queue_;
  std::vector<cv::Mat> spare_;
  bool closing_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace pitlane::sim
