#include "pitlane/report/clip.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/timing.h"
#include "pitlane/sim/video.h"
#include "pitlane/track/circuit.h"

namespace pitlane::report {
namespace {

namespace fs = std::filesystem;

constexpr double kFps = 1e6 / static_cast<double>(sim::kCameraPeriodUs);

// Passes the iterations inside [start, end) to the video with their time shifted to the window's
// start (LapVideo keeps its video on the simulation's clock from t = 0), and ends the run at the
// window's end.
class WindowObserver : public sim::EpisodeObserver {
 public:
  WindowObserver(sim::LapVideo& video, int64_t start_us, int64_t end_us)
      : video_(video), start_us_(start_us), end_us_(end_us) {}

  bool on_iteration(const sim::IterationView& view) override {
    if (view.t_us >= end_us_) return false;
    if (view.t_us < start_us_) return true;
    sim::IterationView shifted = view;
    shifted.t_us -= start_us_;
    return video_.on_iteration(shifted);
  }

 private:
  sim::LapVideo& video_;
  int64_t start_us_, end_us_;
};

struct Encoding {
  const char* extension;
  char fourcc[5];
  const char* mime;
  const char* codec;
};

// H.264 first (a fifth of VP8's size at the bitrate OpenCV picks), VP8 where it is missing.
constexpr Encoding kEncodings[] = {
    {".mp4", "avc1", "video/mp4", "H.264"},
    {".webm", "VP80", "video/webm", "VP8"},
};

}  // namespace

double clip_start(std::span<const sim::TrajectorySample> trajectory, double length_s) {
  if (trajectory.empty()) return 0.0;
  size_t worst = 0;
  for (size_t i = 1; i < trajectory.size(); ++i) {
    if (std::abs(trajectory[i].lateral_m) > std::abs(trajectory[worst].lateral_m)) worst = i;
  }
  const double end = trajectory.back().t_s;
  double start = trajectory[worst].t_s - length_s / 2;
  start = std::clamp(start, 0.0, std::max(0.0, end - length_s));
  const double period_s = static_cast<double>(sim::kCameraPeriodUs) * 1e-6;
  return std::floor(start / period_s + 1e-9) * period_s;
}

Clip record_clip(const EpisodeSpec& spec, double start_s, double end_s, int width,
                 const fs::path& work_dir) {
  fs::create_directories(work_dir);
  const std::string stem = safe_file_name(spec.model + "_" + spec.circuit + "_" + spec.direction);
  const fs::path raw = work_dir / (stem + ".avi");
  {
    const track::Circuit circuit =
        track::load_circuit(spec.circuit, track::parse_direction(spec.direction));
    sim::LapVideo video(raw, circuit);
    WindowObserver window(video, std::llround(start_s * 1e6), std::llround(end_s * 1e6));
    (void)replay(spec, &window);
    video.finish();
  }

  Clip clip;
  clip.start_s = start_s;
  clip.end_s = end_s;
  clip.width = std::max(16, width / 2 * 2);
  clip.height = std::max(12, (clip.width * 3 / 4) / 2 * 2);
  cv::VideoCapture in(raw.string(), cv::CAP_FFMPEG);
  if (!in.isOpened())
    throw RunError(raw.string() + ": cannot read back the lap video just written");
  for (const Encoding& e : kEncodings) {
    const fs::path out = work_dir / (stem + e.extension);
    const int fourcc = cv::VideoWriter::fourcc(e.fourcc[0], e.fourcc[1], e.fourcc[2], e.fourcc[3]);
    cv::VideoWriter writer(out.string(), cv::CAP_FFMPEG, fourcc, kFps,
                           cv::Size(clip.width, clip.height));
    if (!writer.isOpened()) continue;
    cv::Mat frame, small;
    clip.frames = 0;
    while (in.read(frame)) {
      cv::resize(frame, small, cv::Size(clip.width, clip.height), 0, 0, cv::INTER_AREA);
      writer.write(small);
      ++clip.frames;
    }
    writer.release();
    clip.mime = e.mime;
    clip.codec = e.codec;
    clip.bytes = read_file(out);
    fs::remove(out);
    fs::remove(raw);
    return clip;
  }
  throw RunError(
      "this OpenCV's FFmpeg can write neither H.264 (MP4) nor VP8 (WebM) video; install "
      "Debian's libopencv-videoio and its FFmpeg (scripts/install-deps.sh), or use --videos 0");
}

}  // namespace pitlane::report
