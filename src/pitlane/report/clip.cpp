#include "pitlane/report/clip.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <opencv2/videoio.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/timing.h"
#include "pitlane/sim/video.h"
#include "pitlane/track/circuit.h"

namespace pitlane::report {
namespace {

namespace fs = std::filesystem;

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
  const char* mime;
  const char* codec;
  const char* fourccs[2];  // what a reader reports for a browser-playable file
};

// H.264 in MP4 first (small and fast to encode), VP8 in WebM where this build cannot write it.
constexpr Encoding kEncodings[] = {
    {".mp4", "video/mp4", "H.264", {"avc1", "h264"}},
    {".webm", "video/webm", "VP8", {"VP80", "vp80"}},
};

std::string fourcc_text(int fourcc) {
  std::string text(4, ' ');
  for (int i = 0; i < 4; ++i) text[i] = static_cast<char>((fourcc >> (8 * i)) & 0xff);
  return text;
}

// Whether the file holds the codec browsers play: an .mp4 writer that lacks H.264 may fall back
// to MPEG-4 part 2, which no browser plays.
bool has_codec(const fs::path& file, const Encoding& e) {
  cv::VideoCapture in(file.string(), cv::CAP_FFMPEG);
  if (!in.isOpened()) return false;
  const std::string fourcc = fourcc_text(static_cast<int>(in.get(cv::CAP_PROP_FOURCC)));
  return fourcc == e.fourccs[0] || fourcc == e.fourccs[1];
}

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
  const track::Circuit circuit =
      track::load_circuit(spec.circuit, track::parse_direction(spec.direction));
  Clip clip;
  clip.start_s = start_s;
  clip.end_s = end_s;
  clip.width = std::max(16, width / 2 * 2);
  clip.height = std::max(12, (clip.width * 3 / 4) / 2 * 2);
  for (const Encoding& e : kEncodings) {
    const fs::path file = work_dir / (stem + e.extension);
    try {
      sim::LapVideo video(file, circuit, cv::Size(clip.width, clip.height));
      WindowObserver window(video, std::llround(start_s * 1e6), std::llround(end_s * 1e6));
      (void)replay(spec, &window);
      video.finish();
      clip.frames = static_cast<int>(video.frames_written());
    } catch (const InputError&) {
      continue;  // this build cannot write this container
    }
    if (!has_codec(file, e)) {
      fs::remove(file);
      continue;
    }
    clip.mime = e.mime;
    clip.codec = e.codec;
    clip.bytes = read_file(file);
    fs::remove(file);
    return clip;
  }
  throw RunError(
      "this build can write neither H.264 (MP4) nor VP8 (WebM) video, the codecs browsers play; "
      "install Debian's FFmpeg with OpenCV (scripts/install-deps.sh), or use --videos 0");
}

}  // namespace pitlane::report
