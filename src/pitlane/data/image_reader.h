// Reading camera frames. PNG files (every recording's frames) are decoded by libpng's simplified
// API, which reports problems in its result rather than printing them, so a truncated or corrupt
// frame is one InputError naming the file and libpng's reason, with no stray "libpng error"
// lines; other formats go through OpenCV. Images are bounded (at most 16384 pixels a side).
//
//   cv::Mat frame = read_image("data/simple_circuit_cw/17.png");   // 8-bit BGR
#pragma once

#include <filesystem>

#include <opencv2/core.hpp>

namespace pitlane::data {

inline constexpr int kMaxImageSide = 16384;

// An 8-bit, 3-channel BGR image (alpha dropped, grey expanded, 16-bit reduced). InputError
// "<path>: ..." when the file cannot be read or decoded.
cv::Mat read_image(const std::filesystem::path& path);

}  // namespace pitlane::data
