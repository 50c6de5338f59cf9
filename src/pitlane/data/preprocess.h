// The one preprocessing function: camera frame -> network input, shared by training, offline
// evaluation and the neural brain, parameterized by the model's metadata so that train/serve skew
// cannot creep in.
//
// Two stages, so training can cache the cheap-to-store middle:
//   crop_resize:  640x480 frame -> crop rows [crop_row_begin, crop_row_end) -> resize to
//                 width x height (uint8, 3 channels, in the model's colour order)
//   to_tensor:    uint8 image -> float (x / scale - mean) / std, CHW (or HWC) into a caller buffer
// preprocess() is the two in a row.
//
//   PreprocessSpec spec = meta.preprocess;
//   std::vector<float> input(input_size(spec));
//   preprocess(frame_bgr, PixelOrder::bgr, spec, input);   // no allocation but OpenCV's scratch
#pragma once

#include <cstddef>
#include <opencv2/core.hpp>
#include <span>

#include "pitlane/data/model_metadata.h"

namespace pitlane::data {

// Channel order of a frame handed to preprocessing (cv::imread gives bgr).
enum class PixelOrder { bgr, rgb };

// Number of floats of one preprocessed image: 3 * width * height.
inline size_t input_size(const PreprocessSpec& spec) {
  return static_cast<size_t>(3) * spec.width * spec.height;
}

// Crops and resizes a CV_8UC3 frame; the result is CV_8UC3 height x width in spec.color order.
// Throws InputError if the frame is not 8-bit, 3-channel, or has fewer rows than the crop needs.
cv::Mat crop_resize(const cv::Mat& frame, PixelOrder order, const PreprocessSpec& spec);

// Normalizes a CV_8UC3 image of spec.height x spec.width (already in spec.color order) into
// `out` (input_size(spec) floats) in spec.layout.
void to_tensor(const cv::Mat& resized, const PreprocessSpec& spec, std::span<float> out);

// crop_resize then to_tensor.
void preprocess(const cv::Mat& frame, PixelOrder order, const PreprocessSpec& spec,
                std::span<float> out);

}  // namespace pitlane::data
