#include "pitlane/data/augment.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace pitlane::data {
namespace {

TEST(Augment, FlipMirrorsTheImageAndNegatesW) {
  const OutputSpec outputs;
  cv::Mat img(66, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  img.at<cv::Vec3b>(10, 3) = cv::Vec3b(255, 1, 2);
  for (double w : {-5.0, -1.25, 0.0, 2.5, 7.1}) {
    cv::Mat m = img.clone();
    float wn = static_cast<float>(outputs.normalize(1, w));
    flip_sample(m, wn, outputs);
    EXPECT_NEAR(outputs.denormalize(1, wn), -w, 1e-5);
    EXPECT_NEAR(wn, 1.0 - outputs.normalize(1, w), 1e-6);  // symmetric range: w' -> 1 - w'
    EXPECT_EQ(m.at<cv::Vec3b>(10, 196), cv::Vec3b(255, 1, 2));
    EXPECT_EQ(m.at<cv::Vec3b>(10, 3), cv::Vec3b(0, 0, 0));
  }
}

TEST(Augment, SameSeedSameImageAndEveryAugmentationChangesPixels) {
  cv::Mat base(66, 200, CV_8UC3);
  cv::randu(base, 40, 220);
  AugmentConfig all;
  all.brightness_contrast_probability = all.hue_saturation_probability = 1.0;
  all.gamma_probability = all.blur_probability = all.fog_probability = all.rain_probability = 1.0;
  cv::Mat a = base.clone(), b = base.clone();
  Rng ra(5), rb(5);
  augment(a, all, ra);
  augment(b, all, rb);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(a, base, cv::NORM_L1), 0.0);

  AugmentConfig none;
  none.brightness_contrast_probability = none.hue_saturation_probability = 0.0;
  none.gamma_probability = none.blur_probability = 0.0;
  cv::Mat c = base.clone();
  Rng rc(5);
  augment(c, none, rc);
  EXPECT_EQ(cv::norm(c, base, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace pitlane::data
