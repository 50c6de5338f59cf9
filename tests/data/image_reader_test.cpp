// Frames are read with every problem reported in the error, never printed: a truncated or corrupt
// PNG is one InputError naming the file and libpng's reason, and stderr stays empty.
#include "pitlane/data/image_reader.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "../temp_dir.h"
#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace fs = std::filesystem;

namespace pitlane::data {
namespace {

std::string png_bytes(const cv::Mat& image) {
  std::vector<unsigned char> buf;
  cv::imencode(".png", image, buf);
  return {buf.begin(), buf.end()};
}

cv::Mat test_image() {
  cv::Mat m(48, 64, CV_8UC3);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 4, y * 5, (x + y) % 256);
  return m;
}

TEST(ReadImage, PngAndOtherFormatsDecodeToTheSameBgrPixels) {
  pitlane::testing::TempDir tmp("img");
  const cv::Mat image = test_image();
  write_file_atomic(tmp.path() / "a.png", png_bytes(image));
  std::vector<unsigned char> bmp;
  cv::imencode(".bmp", image, bmp);
  write_file_atomic(tmp.path() / "a.bmp", std::string(bmp.begin(), bmp.end()));
  for (const char* name : {"a.png", "a.bmp"}) {
    const cv::Mat got = read_image(tmp.path() / name);
    ASSERT_EQ(got.type(), CV_8UC3) << name;
    EXPECT_EQ(cv::norm(got, image, cv::NORM_INF), 0.0) << name;
  }
  // A grey PNG comes back as three equal channels.
  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(77));
  write_file_atomic(tmp.path() / "g.png", png_bytes(grey));
  const cv::Mat g = read_image(tmp.path() / "g.png");
  EXPECT_EQ(g.type(), CV_8UC3);
  EXPECT_EQ(g.at<cv::Vec3b>(3, 3), cv::Vec3b(77, 77, 77));
}

TEST(ReadImage, BrokenFilesAreOneInputErrorAndPrintNothing) {
  pitlane::testing::TempDir tmp("img-bad");
  const std::string good = png_bytes(test_image());
  std::string corrupt = good;
  corrupt[good.size() / 2] ^= 0x5a;  // inside the image data: a CRC or zlib failure
  const std::pair<const char*, std::string> cases[] = {
      {"truncated.png", good.substr(0, good.size() / 3)},
      {"header.png", good.substr(0, 20)},
      {"corrupt.png", corrupt},
      {"text.png", "this is not an image"},
      {"empty.png", ""},
  };
  for (const auto& [name, bytes] : cases) {
    write_file_atomic(tmp.path() / name, bytes);
    ::testing::internal::CaptureStderr();
    try {
      read_image(tmp.path() / name);
      ADD_FAILURE() << name << " decoded";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind((tmp.path() / name).string() + ": cannot decode", 0), 0u) << msg;
    }
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << name;
  }
  EXPECT_THROW(read_image(tmp.path() / "missing.png"), InputError);
}

}  // namespace
}  // namespace pitlane::data
