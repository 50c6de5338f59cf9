#include "pitlane/data/preprocess.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

#include "pitlane/core/error.h"

namespace pitlane::data {
namespace {

// A frame whose pixel (y, x) has BGR = (10y + x, 100 + 10y + x, 200 - 10y - x).
cv::Mat tiny_frame(int rows, int cols) {
  cv::Mat m(rows, cols, CV_8UC3);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * y + x, 100 + 10 * y + x, 200 - 10 * y - x);
    }
  }
  return m;
}

TEST(Preprocess, MatchesHandComputationWithoutResize) {
  PreprocessSpec spec;
  spec.crop_row_begin = 2;
  spec.crop_row_end = 4;
  spec.width = 3;
  spec.height = 2;
  const cv::Mat frame = tiny_frame(5, 3);
  std::vector<float> out(input_size(spec));
  preprocess(frame, PixelOrder::bgr, spec, out);
  // NCHW, RGB: channel 0 is red = the frame's third (BGR) component.
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 2; ++y) {
      for (int x = 0; x < 3; ++x) {
        const int fy = y + 2;
        const double bgr[3] = {10.0 * fy + x, 100.0 + 10 * fy + x, 200.0 - 10 * fy - x};
        const double raw = bgr[2 - c];
        const double want = (raw / 255.0 - spec.mean[c]) / spec.std[c];
        EXPECT_NEAR(out[c * 6 + y * 3 + x], want, 1e-5) << c << " " << y << " " << x;
      }
    }
  }
}

TEST(Preprocess, LinearHalvingAveragesPixelPairsAndNhwcInterleaves) {
  PreprocessSpec spec;
  spec.crop_row_begin = 0;
  spec.crop_row_end = 2;
  spec.width = 2;   // 4 columns -> 2: each output averages two source columns
  spec.height = 1;  // 2 rows -> 1: and two source rows
  spec.layout = "nhwc";
  spec.color = "bgr";
  const cv::Mat frame = tiny_frame(2, 4);
  std::vector<float> out(input_size(spec));
  preprocess(frame, PixelOrder::bgr, spec, out);
  for (int x = 0; x < 2; ++x) {
    for (int c = 0; c < 3; ++c) {
      double sum = 0;
      for (int y = 0; y < 2; ++y) {
        for (int dx = 0; dx < 2; ++dx) sum += frame.at<cv::Vec3b>(y, 2 * x + dx)[c];
      }
      // The resized image is uint8: the average of the four pixels rounds half up.
      const double avg = std::floor(sum / 4 + 0.5);
      const double want = (avg / 255.0 - spec.mean[c]) / spec.std[c];
      EXPECT_NEAR(out[x * 3 + c], want, 1e-5);
    }
  }
}

TEST(Preprocess, RgbFramesAndBgrFramesGiveTheSameTensor) {
  const PreprocessSpec spec;
  cv::Mat bgr(480, 640, CV_8UC3);
  cv::randu(bgr, 0, 255);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  std::vector<float> a(input_size(spec)), b(input_size(spec));
  preprocess(bgr, PixelOrder::bgr, spec, a);
  preprocess(rgb, PixelOrder::rgb, spec, b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 3u * 66 * 200);
}

TEST(Preprocess, RejectsFramesTooSmallAndWrongBuffers) {
  const PreprocessSpec spec;
  std::vector<float> out(input_size(spec));
  EXPECT_THROW(preprocess(cv::Mat(100, 640, CV_8UC3), PixelOrder::bgr, spec, out), InputError);
  std::vector<float> small(10);
  EXPECT_THROW(preprocess(cv::Mat(480, 640, CV_8UC3), PixelOrder::bgr, spec, small), InputError);
}

}  // namespace
}  // namespace pitlane::data
