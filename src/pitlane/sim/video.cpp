#include "pitlane/sim/video.h"

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/sim/timing.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
}

namespace pitlane::sim {
namespace {

constexpr double kFps = 1e6 / static_cast<double>(kCameraPeriodUs);

// The file's type, checked before anything is opened.
std::string video_type(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  if (ext == ".webm" || ext == ".mp4" || ext == ".avi") return ext;
  throw InputError(path.string() + ": unknown video type '" + ext + "'; use .webm, .mp4 or .avi");
}

}  // namespace

// FFmpeg's encoders at fixed settings: one thread, speed presets that keep up with the
// simulation, bit-exact muxing (no random ids or version strings), so the same frames give the
// same file. .avi (MJPEG) goes through OpenCV's writer.
class LapVideo::Encoder {
 public:
  Encoder(const std::filesystem::path& file, const std::string& type, cv::Size size) {
    if (type == ".avi") {
      open_opencv_mjpeg(writer_, file, size);
      return;
    }
    av_log_set_level(AV_LOG_ERROR);  // FFmpeg's own notes on every file, as OpenCV's writer does
    const bool webm = type == ".webm";
    const char* codec_name = webm ? "libvpx" : "libx264";
    check(avformat_alloc_output_context2(&format_, nullptr, nullptr, file.c_str()), file,
          "cannot set up the container");
    const AVCodec* codec = avcodec_find_encoder_by_name(codec_name);
    if (codec == nullptr) {
      throw InputError(file.string() + ": this FFmpeg has no " + codec_name + " encoder; try " +
                       (webm ? ".mp4" : ".webm") + " or .avi");
    }
    stream_ = avformat_new_stream(format_, nullptr);
    codec_ = avcodec_alloc_context3(codec);
    if (stream_ == nullptr || codec_ == nullptr) throw RunError("out of memory opening a video");
    codec_->width = size.width;
    codec_->height = size.height;
    codec_->time_base = AVRational{1, static_cast<int>(std::lround(kFps))};
    codec_->framerate = AVRational{static_cast<int>(std::lround(kFps)), 1};
    codec_->pix_fmt = AV_PIX_FMT_YUV420P;  // as cv::COLOR_BGR2YUV_I420 writes it
    codec_->color_range = AVCOL_RANGE_MPEG;
    codec_->colorspace = AVCOL_SPC_BT470BG;
    codec_->gop_size = 2 * static_cast<int>(std::lround(kFps));  // a key frame every 2 s
    codec_->thread_count = 1;
    codec_->flags |= AV_CODEC_FLAG_BITEXACT;
    if ((format_->oformat->flags & AVFMT_GLOBALHEADER) != 0) {
      codec_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    if (webm) {
      // Realtime at a fixed speed: a non-negative cpu-used would let libvpx pick the speed from
      // the wall clock, and the bytes would vary from run to run.
      codec_->bit_rate = static_cast<int64_t>(0.5 * size.width * size.height * kFps);
      av_opt_set(codec_->priv_data, "deadline", "realtime", 0);
      av_opt_set(codec_->priv_data, "cpu-used", "-16", 0);
    } else {
      av_opt_set(codec_->priv_data, "preset", "ultrafast", 0);
      av_opt_set(codec_->priv_data, "crf", "23", 0);
    }
    check(avcodec_open2(codec_, codec, nullptr), file, "cannot open the encoder");
    check(avcodec_parameters_from_context(stream_->codecpar, codec_), file,
          "cannot set up the stream");
    stream_->time_base = codec_->time_base;
    format_->flags |= AVFMT_FLAG_BITEXACT;
    check(avio_open(&format_->pb, file.c_str(), AVIO_FLAG_WRITE), file, "cannot open");
    AVDictionary* options = nullptr;
    if (!webm) av_dict_set(&options, "movflags", "+faststart", 0);  // playable while loading
    const int header = avformat_write_header(format_, &options);
    av_dict_free(&options);
    check(header, file, "cannot write the header");
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (frame_ == nullptr || packet_ == nullptr) throw RunError("out of memory opening a video");
    frame_->format = codec_->pix_fmt;
    frame_->width = size.width;
    frame_->height = size.height;
    check(av_frame_get_buffer(frame_, 0), file, "cannot allocate a frame");
    file_ = file;
  }

  ~Encoder() {
    if (format_ != nullptr && format_->pb != nullptr) avio_closep(&format_->pb);
    av_packet_free(&packet_);
    av_frame_free(&frame_);
    avcodec_free_context(&codec_);
    avformat_free_context(format_);
  }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // One BGR frame of the video's size.
  void write(const cv::Mat& bgr) {
    if (format_ == nullptr) {
      writer_.write(bgr);
      return;
    }
    cv::cvtColor(bgr, yuv_, cv::COLOR_BGR2YUV_I420);  // Y plane, then U, then V
    check(av_frame_make_writable(frame_), file_, "cannot write a frame");
    const int w = bgr.cols, h = bgr.rows;
    for (int y = 0; y < h; ++y) {
      std::copy_n(yuv_.ptr<uint8_t>(y), w, frame_->data[0] + y * frame_->linesize[0]);
    }
    const uint8_t* u = yuv_.ptr<uint8_t>(h);
    const uint8_t* v = u + (w / 2) * (h / 2);
    for (int y = 0; y < h / 2; ++y) {
      std::copy_n(u + y * (w / 2), w / 2, frame_->data[1] + y * frame_->linesize[1]);
      std::copy_n(v + y * (w / 2), w / 2, frame_->data[2] + y * frame_->linesize[2]);
    }
    frame_->pts = pts_++;
    send(frame_);
  }

  // Flushes the encoder and writes the container's index.
  void close() {
    if (format_ == nullptr) {
      writer_.release();
      return;
    }
    send(nullptr);
    check(av_write_trailer(format_), file_, "cannot finish the file");
    check(avio_closep(&format_->pb), file_, "cannot close");
  }

 private:
  static void open_opencv_mjpeg(cv::VideoWriter& writer, const std::filesystem::path& file,
                                cv::Size size) {
    writer.open(file.string(), cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kFps,
                size);
    if (!writer.isOpened()) throw InputError(file.string() + ": cannot open an MJPEG writer");
  }

  static void check(int status, const std::filesystem::path& file, const char* what) {
    if (status >= 0) return;
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(status, text, sizeof text);
    throw RunError(file.string() + ": " + what + ": " + text);
  }

  // Sends a frame (nullptr: the end) and writes the packets that come out.
  void send(const AVFrame* frame) {
    check(avcodec_send_frame(codec_, frame), file_, "cannot encode a frame");
    for (;;) {
      const int status = avcodec_receive_packet(codec_, packet_);
      if (status == AVERROR(EAGAIN) || status == AVERROR_EOF) return;
      check(status, file_, "cannot encode a frame");
      // Every frame lasts one camera period: without it the last packet has no duration, the
      // file is a frame short and readers that count frames from it drop the last one.
      if (packet_->duration == 0) packet_->duration = 1;
      av_packet_rescale_ts(packet_, codec_->time_base, stream_->time_base);
      packet_->stream_index = stream_->index;
      check(av_interleaved_write_frame(format_, packet_), file_, "cannot write a frame");
    }
  }

  std::filesystem::path file_;
  cv::VideoWriter writer_;  // .avi
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;  // owned by format_
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  cv::Mat yuv_;
  int64_t pts_ = 0;
};

LapVideo::LapVideo(std::filesystem::path path, const track::Circuit& circuit, cv::Size size)
    : path_(std::move(path)), size_(size) {
  const std::string type = video_type(path_);
  if (size_.width < 16 || size_.height < 12 || size_.width % 2 != 0 || size_.height % 2 != 0) {
    throw InputError("a lap video must be at least 16x12 px with even sides");
  }
  check_writable(path_);
  temp_ = path_.parent_path() / ("." + path_.filename().stem().string() + ".partial-" +
                                 std::to_string(getpid()) + path_.extension().string());
  encoder_ = std::make_unique<Encoder>(temp_, type, size_);
  // Mini-map: the circuit scaled into a square, drawn once.
  const int map_size = static_cast<int>(std::lround(150.0 * size_.height / 480.0));
  Vec2 lo = circuit.points()[0], hi = lo;
  for (Vec2 p : circuit.points()) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  const double margin = map_size / 25.0;  // px
  map_scale_ = (map_size - 2 * margin) / std::max(hi.x - lo.x, hi.y - lo.y);
  map_origin_ = lo - Vec2{margin / map_scale_, margin / map_scale_};
  minimap_ = cv::Mat(map_size, map_size, CV_8UC3, cv::Scalar(40, 40, 40));
  std::vector<cv::Point> outline;
  for (size_t i = 0; i < circuit.points().size(); i += 5) {
    const Vec2 p = circuit.points()[i];
    outline.emplace_back(static_cast<int>((p.x - map_origin_.x) * map_scale_),
                         map_size - 1 - static_cast<int>((p.y - map_origin_.y) * map_scale_));
  }
  cv::polylines(minimap_, outline, true, cv::Scalar(220, 220, 220), map_size >= 120 ? 2 : 1,
                cv::LINE_AA);
  thread_ = std::thread([this] { encode_jobs(); });
}

LapVideo::~LapVideo() {
  if (finished_) return;
  {
    std::lock_guard lock(mutex_);
    queue_.clear();  // abandoned: encode nothing more
  }
  stop();
  encoder_.reset();
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

bool LapVideo::on_iteration(const IterationView& view) {
  // Keep the video on the simulation's clock: one video frame per camera period elapsed.
  const int64_t due = view.t_us / kCameraPeriodUs + 1;
  Job job;
  job.repeats = std::max<int64_t>(1, due - frames_);
  job.hud = {view.command,  view.speed_mps, static_cast<double>(view.t_us) * 1e-6,
             view.progress, view.lateral_m, view.pose};
  {
    std::lock_guard lock(mutex_);
    if (!spare_.empty()) {
      job.frame = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  view.frame->copyTo(job.frame);
  std::unique_lock lock(mutex_);
  has_room_.wait(lock, [&] { return queue_.size() < kMaxQueued || error_; });
  if (error_) std::rethrow_exception(error_);
  queue_.push_back(std::move(job));
  frames_ += queue_.back().repeats;
  has_work_.notify_one();
  return true;
}

// The background thread: scale, draw the HUD, encode, until stop() and the queue is empty.
// After an error it keeps taking jobs (so on_iteration never waits forever) but drops them.
void LapVideo::encode_jobs() {
  cv::Mat canvas;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      has_work_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      has_room_.notify_one();
      if (error_) continue;
    }
    try {
      if (job.frame.size() == size_) {
        job.frame.copyTo(canvas);
      } else {
        cv::resize(job.frame, canvas, size_, 0, 0, cv::INTER_AREA);
      }
      draw_hud(canvas, job.hud);
      for (int64_t i = 0; i < job.repeats; ++i) encoder_->write(canvas);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      has_room_.notify_all();
    }
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(job.frame));
  }
}

void LapVideo::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  has_work_.notify_all();
  thread_.join();
}

void LapVideo::draw_hud(cv::Mat& image, const Hud& hud) const {
  // Sized for the video: the original layout at 640x480, text no smaller than legible below.
  const double k = image.rows / 480.0;
  const double font = std::max(0.36, 0.55 * k);
  const int line_step = std::max(12, static_cast<int>(std::lround(22 * k)));
  const int pad = std::max(4, static_cast<int>(std::lround(8 * k)));
  char lines[4][96];
  std::snprintf(lines[0], sizeof lines[0], "v %.2f m/s   w %+.2f rad/s", hud.command.v,
                hud.command.w);
  std::snprintf(lines[1], sizeof lines[1], "speed %.2f m/s  t %.1f s", hud.speed_mps, hud.t_s);
  std::snprintf(lines[2], sizeof lines[2], "lap progress %.1f %%", 100.0 * hud.progress);
  std::snprintf(lines[3], sizeof lines[3], "offset %+.2f m", hud.lateral_m);
  int text_width = 0;
  for (const auto& line : lines) {
    int baseline = 0;
    text_width = std::max(
        text_width, cv::getTextSize(line, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline).width);
  }
  // Baselines a quarter line above each line's bottom; the progress bar under the last one.
  auto baseline = [&](int row) { return pad + line_step * (row + 1) - line_step / 4; };
  const int bar_y = baseline(3) + std::max(2, line_step / 4), bar_h = std::max(3, line_step / 3);
  const cv::Scalar white(255, 255, 255);
  cv::rectangle(image, cv::Rect(0, 0, text_width + 2 * pad, bar_y + bar_h + pad),
                cv::Scalar(0, 0, 0), cv::FILLED);
  for (int row = 0; row < 4; ++row) {
    cv::putText(image, lines[row], cv::Point(pad, baseline(row)), cv::FONT_HERSHEY_SIMPLEX, font,
                white, 1, cv::LINE_AA);
  }
  // Progress bar under the text.
  cv::rectangle(image, cv::Rect(pad, bar_y, text_width, bar_h), cv::Scalar(90, 90, 90), cv::FILLED);
  cv::rectangle(image,
                cv::Rect(pad, bar_y,
                         static_cast<int>(text_width * std::clamp(hud.progress, 0.0, 1.0)), bar_h),
                cv::Scalar(60, 200, 60), cv::FILLED);
  // Mini-map in the top-right corner with the car as a dot and a heading tick.
  const int map_size = minimap_.rows, gap = std::max(2, pad / 2);
  if (map_size + gap > image.cols || map_size + gap > image.rows) return;  // no room
  const cv::Rect roi(image.cols - map_size - gap, gap, map_size, map_size);
  minimap_.copyTo(image(roi));
  const cv::Point car(
      roi.x + static_cast<int>((hud.pose.position.x - map_origin_.x) * map_scale_),
      roi.y + map_size - 1 - static_cast<int>((hud.pose.position.y - map_origin_.y) * map_scale_));
  const double tick = 10 * k + 2;
  const cv::Point tip = car + cv::Point(static_cast<int>(tick * std::cos(hud.pose.yaw)),
                                        -static_cast<int>(tick * std::sin(hud.pose.yaw)));
  cv::line(image, car, tip, cv::Scalar(0, 255, 255), map_size >= 120 ? 2 : 1, cv::LINE_AA);
  cv::circle(image, car, std::max(2, static_cast<int>(std::lround(4 * k))), cv::Scalar(0, 0, 255),
             cv::FILLED, cv::LINE_AA);
}

void LapVideo::finish() {
  if (finished_) return;
  stop();
  if (error_) std::rethrow_exception(error_);
  encoder_->close();
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec)
    throw RunError(path_.string() + ": cannot move the finished video into place: " + ec.message());
  finished_ = true;
}

}  // namespace pitlane::sim
