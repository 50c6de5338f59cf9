#include "pitlane/data/augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace pitlane::data {

void flip_sample(cv::Mat& image, float& w_normalized, const OutputSpec& outputs) {
  cv::flip(image, image, 1);
  const double w = outputs.denormalize(1, w_normalized);
  w_normalized = static_cast<float>(outputs.normalize(1, -w));
}

void augment(cv::Mat& image, const AugmentConfig& c, Rng& rng) {
  // Draw every random number in a fixed order, whether or not it is used, so that one
  // augmentation's probability does not shift the others' streams.
  const bool do_bc = rng.uniform() < c.brightness_contrast_probability;
  const double brightness = rng.uniform(-c.brightness, c.brightness) * 255.0;
  const double contrast = 1.0 + rng.uniform(-c.contrast, c.contrast);
  const bool do_hs = rng.uniform() < c.hue_saturation_probability;
  const double hue = rng.uniform(-c.hue_degrees, c.hue_degrees) / 2.0;  // OpenCV hue: 0..180
  const double sat = 1.0 + rng.uniform(-c.saturation, c.saturation);
  const bool do_gamma = rng.uniform() < c.gamma_probability;
  const double gamma = std::exp(rng.uniform(-1.0, 1.0) * std::log1p(c.gamma));
  const bool do_blur = rng.uniform() < c.blur_probability;
  const bool do_fog = rng.uniform() < c.fog_probability;
  const double fog = rng.uniform(0.2, 0.5);
  const bool do_rain = rng.uniform() < c.rain_probability;
  const uint64_t rain_seed = rng.next_u64();

  if (do_hs) {
    cv::Mat hsv;
    cv::cvtColor(image, hsv, cv::COLOR_RGB2HSV);
    const int shift = static_cast<int>(std::lround(hue));
    for (int y = 0; y < hsv.rows; ++y) {
      uint8_t* p = hsv.ptr<uint8_t>(y);
      for (int x = 0; x < hsv.cols; ++x, p += 3) {
        p[0] = static_cast<uint8_t>((p[0] + shift + 180) % 180);
        p[1] = cv::saturate_cast<uint8_t>(p[1] * sat);
      }
    }
    cv::cvtColor(hsv, image, cv::COLOR_HSV2RGB);
  }
  if (do_bc || do_gamma) {
    // Brightness/contrast and gamma fold into one 256-entry table.
    uint8_t lut[256];
    for (int i = 0; i < 256; ++i) {
      double x = i;
      if (do_bc) x = (x - 128.0) * contrast + 128.0 + brightness;
      x = std::clamp(x, 0.0, 255.0);
      if (do_gamma) x = 255.0 * std::pow(x / 255.0, gamma);
      lut[i] = cv::saturate_cast<uint8_t>(x);
    }
    for (int y = 0; y < image.rows; ++y) {
      uint8_t* p = image.ptr<uint8_t>(y);
      for (int x = 0; x < image.cols * 3; ++x) p[x] = lut[p[x]];
    }
  }
  if (do_fog) {
    for (int y = 0; y < image.rows; ++y) {
      const double a = fog * (1.0 - 0.6 * y / std::max(1, image.rows - 1));
      uint8_t* p = image.ptr<uint8_t>(y);
      for (int x = 0; x < image.cols * 3; ++x) {
        p[x] = static_cast<uint8_t>(std::lround(p[x] * (1.0 - a) + 210.0 * a));
      }
    }
  }
  if (do_rain) {
    Rng r(rain_seed);
    const int drops = static_cast<int>(image.total() / 150);
    for (int i = 0; i < drops; ++i) {
      const int x = static_cast<int>(r.below(image.cols));
      const int y = static_cast<int>(r.below(image.rows));
      cv::line(image, {x, y}, {x - 2, y + 5}, cv::Scalar(200, 200, 200), 1);
    }
  }
  if (do_blur) cv::GaussianBlur(image, image, cv::Size(3, 3), 0);
}

}  // namespace pitlane::data
