#include "pitlane/data/preprocess.h"

#include <opencv2/imgproc.hpp>
#include <string>

#include "pitlane/core/error.h"

namespace pitlane::data {
namespace {

int cv_interpolation(const std::string& name) {
  if (name == "area") return cv::INTER_AREA;
  if (name == "nearest") return cv::INTER_NEAREST;
  return cv::INTER_LINEAR;
}

}  // namespace

cv::Mat crop_resize(const cv::Mat& frame, PixelOrder order, const PreprocessSpec& spec) {
  if (frame.type() != CV_8UC3) {
    throw InputError("preprocess: frame must be 8-bit with 3 channels (got type " +
                     std::to_string(frame.type()) + "); convert it to RGB or BGR first");
  }
  if (frame.rows < spec.crop_row_end) {
    throw InputError("preprocess: frame has " + std::to_string(frame.rows) +
                     " rows but the model crops rows " + std::to_string(spec.crop_row_begin) +
                     ".." + std::to_string(spec.crop_row_end - 1) + "; use 640x480 frames");
  }
  const cv::Mat cropped =
      frame(cv::Range(spec.crop_row_begin, spec.crop_row_end), cv::Range::all());
  cv::Mat resized;
  cv::resize(cropped, resized, cv::Size(spec.width, spec.height), 0, 0,
             cv_interpolation(spec.interpolation));
  const bool want_rgb = spec.color == "rgb";
  const bool have_rgb = order == PixelOrder::rgb;
  if (want_rgb != have_rgb) cv::cvtColor(resized, resized, cv::COLOR_BGR2RGB);
  return resized;
}

void to_tensor(const cv::Mat& resized, const PreprocessSpec& spec, std::span<float> out) {
  if (resized.type() != CV_8UC3 || resized.rows != spec.height || resized.cols != spec.width) {
    throw InputError("preprocess: image must be " + std::to_string(spec.width) + "x" +
                     std::to_string(spec.height) + " 8-bit RGB; run crop_resize first");
  }
  if (out.size() != input_size(spec)) {
    throw InputError("preprocess: output buffer holds " + std::to_string(out.size()) +
                     " floats, the model needs " + std::to_string(input_size(spec)));
  }
  // Per-channel affine map x -> x * gain + offset, identical to (x / scale - mean) / std.
  float gain[3], offset[3];
  for (int c = 0; c < 3; ++c) {
    gain[c] = static_cast<float>(1.0 / (spec.scale * spec.std[c]));
    offset[c] = static_cast<float>(-spec.mean[c] / spec.std[c]);
  }
  const int h = spec.height, w = spec.width;
  const size_t plane = static_cast<size_t>(h) * w;
  const bool chw = spec.layout == "nchw";
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float value = static_cast<float>(row[3 * x + c]) * gain[c] + offset[c];
        const size_t pixel = static_cast<size_t>(y) * w + x;
        out[chw ? c * plane + pixel : 3 * pixel + c] = value;
      }
    }
  }
}

void preprocess(const cv::Mat& frame, PixelOrder order, const PreprocessSpec& spec,
                std::span<float> out) {
  to_tensor(crop_resize(frame, order, spec), spec, out);
}

}  // namespace pitlane::data
