#include "pitlane/sim/video.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include <opencv2/imgproc.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/timing.h"

namespace pitlane::sim {
namespace {

constexpr int kMapSize = 150;  // px
constexpr double kFps = 1e6 / static_cast<double>(kCameraPeriodUs);

int fourcc_for(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".webm") return cv::VideoWriter::fourcc('V', 'P', '8', '0');
  if (ext == ".avi") return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  if (ext == ".mp4") return cv::VideoWriter::fourcc('m', 'p', '4', 'v');
  throw InputError(path.string() + ": unknown video type '" + ext + "'; use .webm, .avi or .mp4");
}

}  // namespace

LapVideo::LapVideo(std::filesystem::path path, const track::Circuit& circuit)
    : path_(std::move(path)) {
  const int fourcc = fourcc_for(path_);
  check_writable(path_);
  temp_ = path_.parent_path() / ("." + path_.filename().stem().string() + ".partial-" +
                                 std::to_string(getpid()) + path_.extension().string());
  writer_.open(temp_.string(), cv::CAP_FFMPEG, fourcc, kFps, cv::Size(640, 480));
  if (!writer_.isOpened()) {
    throw InputError(path_.string() + ": cannot open a video writer for this type; try .avi");
  }
  // Mini-map: the circuit scaled into a square, drawn once.
  Vec2 lo = circuit.points()[0], hi = lo;
  for (Vec2 p : circuit.points()) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  map_scale_ = (kMapSize - 12) / std::max(hi.x - lo.x, hi.y - lo.y);
  map_origin_ = lo - Vec2{6.0 / map_scale_, 6.0 / map_scale_};
  minimap_ = cv::Mat(kMapSize, kMapSize, CV_8UC3, cv::Scalar(40, 40, 40));
  std::vector<cv::Point> outline;
  for (size_t i = 0; i < circuit.points().size(); i += 5) {
    const Vec2 p = circuit.points()[i];
    outline.emplace_back(static_cast<int>((p.x - map_origin_.x) * map_scale_),
                         kMapSize - 1 - static_cast<int>((p.y - map_origin_.y) * map_scale_));
  }
  cv::polylines(minimap_, outline, true, cv::Scalar(220, 220, 220), 2, cv::LINE_AA);
}

LapVideo::~LapVideo() {
  if (!finished_) {
    writer_.release();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

bool LapVideo::on_iteration(const IterationView& view) {
  view.frame->copyTo(canvas_);
  draw_hud(canvas_, view);
  // Keep the video on the simulation's clock: one video frame per camera period elapsed.
  const int64_t due = view.t_us / kCameraPeriodUs + 1;
  do {
    writer_.write(canvas_);
    ++frames_;
  } while (frames_ < due);
  return true;
}

void LapVideo::draw_hud(cv::Mat& image, const IterationView& view) const {
  char line[96];
  const cv::Scalar white(255, 255, 255);
  cv::rectangle(image, cv::Rect(0, 0, 250, 112), cv::Scalar(0, 0, 0), cv::FILLED);
  auto text = [&](int row, const char* s) {
    cv::putText(image, s, cv::Point(8, 22 + 22 * row), cv::FONT_HERSHEY_SIMPLEX, 0.55, white, 1,
                cv::LINE_AA);
  };
  std::snprintf(line, sizeof line, "v %.2f m/s   w %+.2f rad/s", view.command.v, view.command.w);
  text(0, line);
  std::snprintf(line, sizeof line, "speed %.2f m/s  t %.1f s", view.speed_mps, view.t_us * 1e-6);
  text(1, line);
  std::snprintf(line, sizeof line, "lap progress %.1f %%", 100.0 * view.progress);
  text(2, line);
  std::snprintf(line, sizeof line, "offset %+.2f m", view.lateral_m);
  text(3, line);
  // Progress bar under the text.
  cv::rectangle(image, cv::Rect(8, 96, 230, 8), cv::Scalar(90, 90, 90), cv::FILLED);
  cv::rectangle(image, cv::Rect(8, 96, static_cast<int>(230 * view.progress), 8), cv::Scalar(60, 200, 60), cv::FILLED);
  // Mini-map in the top-right corner with the car as a dot and a heading tick.
  const cv::Rect roi(image.cols - kMapSize - 4, 4, kMapSize, kMapSize);
  minimap_.copyTo(image(roi));
  const cv::Point car(roi.x + static_cast<int>((view.pose.position.x - map_origin_.x) * map_scale_),
                      roi.y + kMapSize - 1 - static_cast<int>((view.pose.position.y - map_origin_.y) * map_scale_));
  const cv::Point tip = car + cv::Point(static_cast<int>(10 * std::cos(view.pose.yaw)),
                                        -static_cast<int>(10 * std::sin(view.pose.yaw)));
  cv::line(image, car, tip, cv::Scalar(0, 255, 255), 2, cv::LINE_AA);
  cv::circle(image, car, 4, cv::Scalar(0, 0, 255), cv::FILLED, cv::LINE_AA);
}

void LapVideo::finish() {
  if (finished_) return;
  writer_.release();
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec) throw RunError(path_.string() + ": cannot move the finished video into place: " + ec.message());
  finished_ = true;
}

}  // namespace pitlane::sim
