#include "pitlane/data/image_reader.h"

#include <png.h>

#include <cstring>
#include <opencv2/imgcodecs.hpp>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::data {
namespace {

constexpr unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// png_image owns libpng's state between begin and finish; png_image_free releases it on any path.
struct PngImage {
  png_image image{};
  PngImage() { image.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&image); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
};

cv::Mat decode_png(const std::string& bytes, const std::filesystem::path& path) {
  PngImage png;
  auto fail = [&](const char* stage) {
    throw InputError(path.string() + ": cannot decode the PNG (" + stage + ": " +
                     png.image.message + "); the file is corrupt or truncated");
  };
  if (!png_image_begin_read_from_memory(&png.image, bytes.data(), bytes.size())) fail("header");
  if (png.image.width > kMaxImageSide || png.image.height > kMaxImageSide) {
    throw InputError(path.string() + ": image is " + std::to_string(png.image.width) + "x" +
                     std::to_string(png.image.height) + ", larger than " +
                     std::to_string(kMaxImageSide) + " pixels a side");
  }
  png.image.format = PNG_FORMAT_BGR;
  cv::Mat out(static_cast<int>(png.image.height), static_cast<int>(png.image.width), CV_8UC3);
  if (!png_image_finish_read(&png.image, nullptr, out.data, static_cast<png_int_32>(out.step),
                             nullptr))
    fail("data");
  return out;
}

}  // namespace

cv::Mat read_image(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() >= sizeof kPngSignature &&
      std::memcmp(bytes.data(), kPngSignature, sizeof kPngSignature) == 0)
    return decode_png(bytes, path);
  if (bytes.empty())
    throw InputError(path.string() + ": cannot decode the image (the file is empty)");
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    image = cv::Mat();  // reported below like any undecodable file
  }
  if (image.empty())
    throw InputError(path.string() +
                     ": cannot decode the image (not a PNG, JPEG or other format OpenCV reads)");
  if (image.cols > kMaxImageSide || image.rows > kMaxImageSide)
    throw InputError(path.string() + ": image is larger than " + std::to_string(kMaxImageSide) +
                     " pixels a side");
  return image;
}

}  // namespace pitlane::data
