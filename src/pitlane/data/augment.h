// Training-time augmentation of cached network-size images (uint8, 3 channels, model colour
// order), and the horizontal flip that negates w.
//
// Photometric augmentations run on the small (200x66) image after crop/resize: they are cheap
// there (a few microseconds each) and commute with the crop. Every random draw comes from the
// caller's Rng, so a seed reproduces the same images.
//
//   AugmentConfig aug;                     // the study's set: brightness/contrast, hue/saturation,
//   Rng rng(seed);                         // gamma, blur; fog and rain off by default
//   cv::Mat img = rec.image(i).clone();
//   auto [v, w] = normalized_labels(rec.frames[i], outputs);
//   if (rng.uniform() < aug.flip_probability) flip_sample(img, w, outputs);
//   augment(img, aug, rng);
#pragma once

#include <opencv2/core.hpp>

#include "pitlane/core/rng.h"
#include "pitlane/data/model_metadata.h"

namespace pitlane::data {

struct AugmentConfig {
  double flip_probability = 0.5;  // mirror left-right and negate w
  double brightness_contrast_probability = 0.5;
  double brightness = 0.2;  // additive shift, fraction of full scale, +-
  double contrast = 0.2;    // multiplicative gain 1 +- this
  double hue_saturation_probability = 0.5;
  double hue_degrees = 10.0;  // hue shift, degrees, +-
  double saturation = 0.3;    // saturation gain 1 +- this
  double gamma_probability = 0.3;
  double gamma = 0.25;            // gamma in [1/(1+g), 1+g]
  double blur_probability = 0.2;  // 3x3 Gaussian blur
  double fog_probability = 0.0;   // blend towards light grey, stronger near the top
  double rain_probability = 0.0;  // thin bright slanted streaks
};

// Mirrors `image` left-right and replaces the normalized w label by that of -w.
void flip_sample(cv::Mat& image, float& w_normalized, const OutputSpec& outputs);

// Applies the photometric augmentations in place (CV_8UC3).
void augment(cv::Mat& image, const AugmentConfig& config, Rng& rng);

}  // namespace pitlane::data
