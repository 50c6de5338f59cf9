#include "pitlane/brain/explicit_brain.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace pitlane::brain {
namespace {

constexpr double kCycleS = 0.05;  // the brain's nominal period, for the damping term

}  // namespace

ExplicitBrain::ExplicitBrain(ExpertParams params, sim::CameraModel camera)
    : params_(params), camera_(camera), focal_(camera.focal_px()) {}

void ExplicitBrain::reset() {
  has_last_ = false;
  last_angle_ = last_w_ = 0.0;
}

void ExplicitBrain::find_line(const cv::Mat& frame, std::vector<LinePoint>& points) const {
  points.clear();
  const int horizon = frame.rows / 2;
  // Rows from the bottom (nearest) up to just below the horizon (about 16 m away).
  for (int v = frame.rows - 1; v > horizon + 1; --v) {
    const uint8_t* row = frame.ptr<uint8_t>(v);
    int best_start = -1, best_len = 0, run_start = -1;
    for (int u = 0; u <= frame.cols; ++u) {
      bool red = false;
      if (u < frame.cols) {
        const int b = row[3 * u], g = row[3 * u + 1], r = row[3 * u + 2];
        red = r > 90 && r - std::max(g, b) > 50;
      }
      if (red && run_start < 0) run_start = u;
      if (!red && run_start >= 0) {
        if (u - run_start > best_len) {
          best_len = u - run_start;
          best_start = run_start;
        }
        run_start = -1;
      }
    }
    if (best_len == 0) continue;
    const double centre_u = best_start + 0.5 * best_len;
    const double yn = (v + 0.5 - 0.5 * frame.rows) / focal_;
    const double z = camera_.height_m / yn;  // depth along the optical axis
    const double right = (centre_u - 0.5 * frame.cols) / focal_ * z;
    points.push_back({z + camera_.forward_m, camera_.left_m - right});
  }
}

sim::Command ExplicitBrain::act(const cv::Mat& frame_bgr) {
  const auto t0 = std::chrono::steady_clock::now();
  find_line(frame_bgr, points_);
  sim::Command cmd;
  if (points_.size() < 3) {
    // Line lost: slow down and keep turning the way we last turned.
    cmd.v = params_.v_search;
    cmd.w = last_w_ == 0.0 ? 0.0 : std::copysign(std::max(std::abs(last_w_), 1.5), last_w_);
  } else {
    // Speed first: the sharpest bend among the line points within the preview distance.
    double max_curvature = 0.0;
    for (const LinePoint& p : points_) {
      const double d2 = p.forward_m * p.forward_m + p.left_m * p.left_m;
      if (p.forward_m > params_.preview_m) break;
      if (p.forward_m < 1.5) continue;
      max_curvature = std::max(max_curvature, std::abs(2.0 * p.left_m / d2));
    }
    const double span = params_.curve_curvature - params_.straight_curvature;
    const double straightness =
        std::clamp((params_.curve_curvature - max_curvature) / span, 0.0, 1.0);
    // The furthest point seen limits the speed too: if the line ends close, a bend hides it.
    const double seen = points_.back().forward_m;
    const double sight = std::clamp((seen - 3.0) / (params_.preview_m - 3.0), 0.0, 1.0);
    cmd.v =
        params_.v_curve + (params_.v_straight - params_.v_curve) * std::min(straightness, sight);
    // Steering: pursue the line point nearest the lookahead distance.
    const double lookahead = params_.lookahead_base_m + params_.lookahead_gain_s * cmd.v;
    const LinePoint* target = &points_.front();
    for (const LinePoint& p : points_) {
      if (std::abs(std::hypot(p.forward_m, p.left_m) - lookahead) <
          std::abs(std::hypot(target->forward_m, target->left_m) - lookahead)) {
        target = &p;
      }
    }
    const double d2 = target->forward_m * target->forward_m + target->left_m * target->left_m;
    const double angle = std::atan2(target->left_m, target->forward_m);
    const double rate = has_last_ ? (angle - last_angle_) / kCycleS : 0.0;
    cmd.w = cmd.v * 2.0 * target->left_m / d2 + params_.kd * rate;
    cmd.w = std::clamp(cmd.w, -7.1, 7.1);
    last_angle_ = angle;
    has_last_ = true;
  }
  last_w_ = cmd.w;
  last_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return cmd;
}

}  // namespace pitlane::brain
