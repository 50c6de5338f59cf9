#include "pitlane/brain/neural_brain.h"

#include <gtest/gtest.h>

#include "../temp_dir.h"

#include <filesystem>
#include <fstream>

#include "../sim/sim_test_util.h"
#include "pitlane/core/error.h"
#include "pitlane/sim/episode.h"
#include "pitlane/train/onnx_writer.h"

namespace fs = std::filesystem;

namespace pitlane::brain {
namespace {

class NeuralBrainTest : public ::testing::Test {
 protected:
  pitlane::testing::TempDir tmp_{"neural"};
  const fs::path dir_ = tmp_.path();

  // A PilotNet whose weights are all zero: its output is the last layer's bias, whatever it sees.
  fs::path constant_model(float v_norm, float w_norm, data::ModelMetadata meta = {}) {
    train::PilotNetWeights net = train::pilotnet_skeleton(train::Arch::valid);
    for (auto& x : net.input_norm.var) x = 1.0f;
    net.dense.back().bias = {v_norm, w_norm};
    const fs::path path = dir_ / "constant.onnx";
    train::write_pilotnet_onnx(path, net, meta);
    return path;
  }
};

TEST_F(NeuralBrainTest, DenormalizesWithTheModelsRanges) {
  NeuralBrain brain(constant_model(0.5f, 0.75f), {});
  const cv::Mat frame(480, 640, CV_8UC3, cv::Scalar(80, 80, 80));
  const sim::Command c = brain.act(frame);
  EXPECT_NEAR(c.v, 6.5 + 0.5 * 17.5, 1e-5);
  EXPECT_NEAR(c.w, -7.1 + 0.75 * 14.2, 1e-5);
  EXPECT_EQ(brain.name(), "constant.onnx");
  EXPECT_GE(brain.last_inference_ms(), 0.0);
  // Outputs beyond [0, 1] are clipped like the training labels.
  NeuralBrain beyond(constant_model(1.4f, -0.2f), {});
  const sim::Command d = beyond.act(frame);
  EXPECT_NEAR(d.v, 24.0, 1e-9);
  EXPECT_NEAR(d.w, -7.1, 1e-9);
}

TEST_F(NeuralBrainTest, OverridesForForeignModels) {
  NeuralBrainOptions options;
  options.outputs_json = R"({"min":[0,-1],"max":[10,1]})";
  options.backend = runtime::Backend::reference;
  NeuralBrain brain(constant_model(0.5f, 0.75f), options);
  const sim::Command c = brain.act(cv::Mat(480, 640, CV_8UC3, cv::Scalar(0, 0, 0)));
  EXPECT_NEAR(c.v, 5.0, 1e-5);
  EXPECT_NEAR(c.w, 0.5, 1e-5);
  options.outputs_json = "{not json";
  EXPECT_THROW(NeuralBrain(constant_model(0.5f, 0.5f), options), InputError);
}

TEST_F(NeuralBrainTest, DrivesInClosedLoopWithItsMeasuredTime) {
  const track::Circuit circuit = sim::testing::stadium();
  sim::Renderer renderer(circuit);
  NeuralBrain brain(constant_model(0.0f, 0.5f), {});  // 6.5 m/s straight ahead
  sim::EpisodeConfig config;
  config.timing = sim::TimingModel::parse("measured x30");
  config.timeout_s = 3.0;
  const sim::EpisodeResult r = sim::run_episode(circuit, renderer, brain, config);
  EXPECT_EQ(r.metrics.brain, "constant.onnx");
  EXPECT_GT(r.metrics.inference_ms_p50, 0.0);
  EXPECT_NEAR(r.metrics.inference_ms_p50, 30.0 * r.timing.brain_ms_p50,
              0.5 * 30.0 * r.timing.brain_ms_p50 + 1.0);
  EXPECT_GT(r.metrics.completed_distance_m, 10.0);
}

TEST_F(NeuralBrainTest, BadModelIsAnInputError) {
  const fs::path bad = dir_ / "bad.onnx";
  std::ofstream(bad) << "not a model";
  try {
    NeuralBrain brain(bad, {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.onnx"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pitlane::brain
