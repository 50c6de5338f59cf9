// NeuralBrain: drives with any ONNX model that pitlane's runtime can run.
//
// Per frame: the model's own preprocessing (from its metadata: crop, resize, colour order,
// mean/std, layout) into a preallocated input, one inference on the runtime (one thread by
// default: the simulator has the other core), then the outputs de-normalized to (v, w) with the
// ranges in the metadata. Only the inference call is timed, as BehaviorMetrics timed `predict`;
// that time feeds the timing model, so a slow model drives at a lower rate.
//
// Models without pitlane metadata get the study's conventions (PilotNet preprocessing, outputs
// v in 6.5..24 m/s and w in -7.1..7.1 rad/s); NeuralBrainOptions overrides either.
//
//   NeuralBrain brain("pilotnet.onnx", {});
//   sim::Command c = brain.act(frame);   // frame: 480x640 BGR
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pitlane/data/model_metadata.h"
#include "pitlane/runtime/model.h"
#include "pitlane/sim/brain.h"

namespace pitlane::brain {

struct NeuralBrainOptions {
  runtime::Backend backend = runtime::Backend::automatic;
  int threads = 1;
  // JSON in the metadata's own format (see data/model_metadata.h), for foreign models.
  std::string preprocess_json;  // e.g. {"color":"bgr","layout":"nhwc"}; "" keeps the model's
  std::string outputs_json;     // e.g. {"min":[0,-3],"max":[10,3]}; "" keeps the model's
};

class NeuralBrain : public sim::Brain {
 public:
  // InputError (one line naming the file) if the model cannot be loaded or has the wrong shape.
  NeuralBrain(const std::filesystem::path& model_path, const NeuralBrainOptions& options);

  std::string name() const override { return name_; }
  sim::Command act(const cv::Mat& frame_bgr) override;
  double last_inference_ms() const override { return last_ms_; }

  const data::ModelMetadata& metadata() const { return metadata_; }
  // The model input act() makes of a frame (benchmarks on real frames).
  std::vector<float> model_input(const cv::Mat& frame_bgr) const;
  // The last raw outputs (normalized), for HUDs and tests.
  const std::vector<float>& last_outputs() const { return output_; }

 private:
  std::string name_;
  data::ModelMetadata metadata_;
  runtime::Model model_;
  std::optional<runtime::Session> session_;
  std::vector<float> input_, output_;
  double last_ms_ = 0.0;
};

}  // namespace pitlane::brain
