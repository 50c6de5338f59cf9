#include "pitlane/sim/renderer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pitlane/core/error.h"
#include "pitlane/core/rng.h"
#include "sim_test_util.h"

namespace pitlane::sim {
namespace {

bool is_red(const cv::Vec3b& p) {
  return p[2] > 90 && p[2] - std::max(p[0], p[1]) > 50;
}

// Centre column of the red run in a row, or -1.
double red_centre(const cv::Mat& img, int row) {
  double sum = 0;
  int count = 0;
  for (int u = 0; u < img.cols; ++u) {
    if (is_red(img.at<cv::Vec3b>(row, u))) {
      sum += u + 0.5;
      ++count;
    }
  }
  return count ? sum / count : -1.0;
}

class RendererTest : public ::testing::Test {
 protected:
  track::Circuit circuit_ = testing::stadium();
  // Middle of the upper straight, heading +x, on the centre line.
  Pose2 centred_ = circuit_.pose_at(circuit_.project({0.0, 40.0}).s);
};

TEST_F(RendererTest, LineAppearsWherePinholeGeometrySaysSo) {
  Renderer r(circuit_);
  cv::Mat img;
  r.render(centred_, RenderStyle{}, 0, img);
  ASSERT_EQ(img.rows, 480);
  ASSERT_EQ(img.cols, 640);
  const double f = r.camera().focal_px();
  // The camera sits 0.04 m left of the car, so the centre line is 0.04 m to its right.
  for (int row : {250, 270, 300, 360, 470}) {
    const double z = r.camera().height_m * f / (row + 0.5 - 240.0);
    const double expected = 320.0 + f * r.camera().left_m / z;
    EXPECT_NEAR(red_centre(img, row), expected, 1.0) << "row " << row;
    // And its width is the painted 0.09 m at that depth.
    int count = 0;
    for (int u = 0; u < 640; ++u) count += is_red(img.at<cv::Vec3b>(row, u));
    EXPECT_NEAR(count, 0.09 * f / z, 2.0) << "row " << row;
  }
  // Above the horizon there is no ground.
  EXPECT_EQ(red_centre(img, 239), -1.0);
}

TEST_F(RendererTest, WallsStandWhereTheyShould) {
  Renderer r(circuit_);
  cv::Mat img;
  r.render(centred_, RenderStyle{}, 0, img);
  // Leftmost column: the left wall (1.8 m from the centre, 1.76 m from the camera) is hit at
  // depth 1.76 / |xn|; its top edge shows at 240 - f * (0.76 - 0.10) / depth.
  const double f = r.camera().focal_px();
  const double xn = (0.5 - 320.0) / f;
  const double depth = (1.8 - 0.04) / std::abs(xn);
  const int top = static_cast<int>(std::ceil(239.5 - f * 0.66 / depth));
  const cv::Vec3b wall = img.at<cv::Vec3b>(top + 3, 0), sky = img.at<cv::Vec3b>(top - 3, 0);
  EXPECT_LT(std::abs(wall[0] - wall[2]), 4) << "walls are grey";
  EXPECT_GT(sky[0], sky[2] + 20) << "the sky is bluish";
}

TEST_F(RendererTest, SameInputsSameBytes) {
  Renderer a(circuit_), b(circuit_);
  cv::Mat x, y, z;
  RenderStyle noisy;
  noisy.noise_sigma = 5.0f;
  noisy.fog_density = 0.05f;
  a.render(centred_, noisy, 7, x);
  b.render(centred_, noisy, 7, y);
  b.render(centred_, noisy, 8, z);
  EXPECT_EQ(cv::norm(x, y, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(x, z, cv::NORM_INF), 0.0) << "another frame seed draws other noise";
}

TEST_F(RendererTest, LineStyles) {
  Renderer r(circuit_);
  cv::Mat img;
  RenderStyle style;
  style.line = LineStyle::kNone;
  r.render(centred_, style, 0, img);
  EXPECT_EQ(red_centre(img, 400), -1.0);
  style.line = LineStyle::kWhite;
  r.render(centred_, style, 0, img);
  const cv::Vec3b p = img.at<cv::Vec3b>(400, static_cast<int>(red_centre(img, 400) < 0 ? 340 : 0));
  EXPECT_GT(p[0], 200);
  EXPECT_GT(p[2], 200);
  EXPECT_THROW(parse_line_style("blue"), InputError);
}

TEST_F(RendererTest, BrightnessScalesTheImage) {
  Renderer r(circuit_);
  cv::Mat base, dark;
  r.render(centred_, RenderStyle{}, 0, base);
  RenderStyle style;
  style.brightness = 0.5f;
  r.render(centred_, style, 0, dark);
  const double ratio = cv::mean(dark)[1] / cv::mean(base)[1];
  EXPECT_NEAR(ratio, 0.5, 0.02);
}

// The AVX2 loops are an optimization only: they must write the portable loops' bytes, frame for
// frame, whatever the place, the line and the style.
TEST_F(RendererTest, Avx2LoopsWriteThePortableBytes) {
  Rng rng(21);
  for (const char* name : {"simple_circuit", "montmelo", "many_curves"}) {
    const track::Circuit c = track::load_circuit(name);
    Renderer best(c), portable(c, {}, RenderKernels::kPortable);
    if (!best.uses_avx2()) GTEST_SKIP() << "this CPU has no AVX2";
    ASSERT_FALSE(portable.uses_avx2());
    cv::Mat a, b;
    for (int i = 0; i < 24; ++i) {
      // On the centre line, off it, and turned towards a wall (rows of wall, grass, border).
      const double lateral = i % 3 == 0 ? 0.0 : rng.uniform(-1.6, 1.6);
      const double yaw = i % 3 == 2 ? rng.uniform(-1.5, 1.5) : rng.uniform(-0.2, 0.2);
      const Pose2 pose = c.pose_at(rng.uniform(0.0, c.length()), lateral, yaw);
      RenderStyle style = i % 2 == 0 ? RenderStyle{} : random_style(rng);
      if (i % 4 == 1) style.fog_density = 0.08f;
      style.line = i % 5 == 3 ? LineStyle::kWhite : i % 5 == 4 ? LineStyle::kNone : LineStyle::kRed;
      best.render(pose, style, static_cast<uint64_t>(i), a);
      portable.render(pose, style, static_cast<uint64_t>(i), b);
      ASSERT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0) << name << " frame " << i;
    }
  }
}

}  // namespace
}  // namespace pitlane::sim
