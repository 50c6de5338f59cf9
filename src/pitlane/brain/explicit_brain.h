// ExplicitBrain: the expert, an image-based red-line follower like the original's "explicit"
// brain (REFERENCE section 2). It sees only the camera image.
//
// Per frame: threshold red in every row below the horizon and take the centre of the widest red
// run; turn the rows' line positions into points on the ground with the camera's geometry; steer
// with PD control on the angle to a lookahead point on the line (pursuit: w = v * 2 y / d^2 plus
// a damping term), the lookahead growing with speed; drive fast where the line ahead is straight
// and at curve speed where it bends. With no line in sight it slows and keeps turning the way it
// last turned, to find it again.
//
//   ExplicitBrain expert;               // default ExpertParams
//   sim::Command c = expert.act(frame); // frame: 480x640 BGR
#pragma once

#include <vector>

#include "pitlane/sim/brain.h"
#include "pitlane/sim/renderer.h"

namespace pitlane::brain {

struct ExpertParams {
  double v_straight = 13.0;          // m/s where the line ahead is straight
  double v_curve = 7.0;              // m/s in curves (the original's curve speed)
  double v_search = 3.0;             // m/s while the line is lost
  double curve_curvature = 0.07;     // 1/m: at or above this the car takes curve speed
  double straight_curvature = 0.02;  // 1/m: at or below this, straight speed
  double lookahead_base_m = 1.0;     // lookahead distance = base + gain * v, from the car's origin
  double lookahead_gain_s = 0.2;
  double preview_m = 9.0;  // how far ahead the speed policy looks
  double kd = 0.6;         // damping on the lookahead angle's rate, (rad/s) / (rad/s)
};

class ExplicitBrain : public sim::Brain {
 public:
  explicit ExplicitBrain(ExpertParams params = {}, sim::CameraModel camera = {});

  std::string name() const override { return "explicit"; }
  void reset() override;
  sim::Command act(const cv::Mat& frame_bgr) override;
  double last_inference_ms() const override { return last_ms_; }

 private:
  struct LinePoint {
    double forward_m;  // from the car's origin
    double left_m;
  };
  // Finds the line in the frame: one ground point per row where red is seen, nearest first.
  void find_line(const cv::Mat& frame, std::vector<LinePoint>& points) const;

  ExpertParams params_;
  sim::CameraModel camera_;
  double focal_ = 0.0;
  std::vector<LinePoint> points_;  // scratch, reused between frames
  double last_angle_ = 0.0;
  double last_w_ = 0.0;
  bool has_last_ = false;
  double last_ms_ = 0.0;
};

}  // namespace pitlane::brain
