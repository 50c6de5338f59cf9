// Brain: what drives the car. It sees only the camera frame and answers a command.
//
// Brains are the one place with a virtual interface: the expert, neural networks on the runtime
// and test doubles plug in behind it. The episode measures nothing itself; a brain reports how
// long its timed part took (for a network: the inference call alone, as BehaviorMetrics timed
// only `predict`).
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "pitlane/sim/vehicle.h"

namespace pitlane::sim {

class Brain {
 public:
  virtual ~Brain() = default;
  // A short name for results ("explicit", a model's file name).
  virtual std::string name() const = 0;
  // Forget any state from a previous run.
  virtual void reset() {}
  // One iteration: the latest 480x640 BGR camera frame in, a command out.
  virtual sim::Command act(const cv::Mat& frame_bgr) = 0;
  // Wall-clock time of the timed part of the last act() call, ms.
  virtual double last_inference_ms() const = 0;
};

}  // namespace pitlane::sim
