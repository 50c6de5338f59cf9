// Files the study tests bring as a user would: an ONNX model of their own (with or without
// pitlane's metadata) and recordings in the DeepLearningStudio layout.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <string>

#include <opencv2/imgcodecs.hpp>

#include "pitlane/core/files.h"
#include "pitlane/data/model_metadata.h"
#include "pitlane/train/onnx_writer.h"
#include "pitlane/train/pilotnet.h"

namespace pitlane::study::test_files {

// A PilotNet whose weights are all zero: it outputs (v_norm, w_norm) whatever it sees. Without
// `metadata` the file holds no metadata_props at all, like a model another tool exported.
inline std::filesystem::path write_constant_model(const std::filesystem::path& path, float v_norm,
                                                  float w_norm, bool metadata) {
  train::PilotNetWeights net = train::pilotnet_skeleton(train::Arch::valid);
  for (auto& x : net.input_norm.var) x = 1.0f;
  net.dense.back().bias = {v_norm, w_norm};
  ::onnx::ModelProto model;
  model.ParseFromString(train::pilotnet_onnx_bytes(net, data::ModelMetadata{}));
  if (!metadata) model.clear_metadata_props();
  write_file_atomic(path, model.SerializeAsString());
  return path;
}

// A recording folder of `frames` 640x480 frames (a flat grey that changes with the frame) and
// data.csv with a gentle left curve as labels.
inline std::filesystem::path write_recording(const std::filesystem::path& dir, int frames) {
  std::filesystem::create_directories(dir);
  std::string csv = "image_name, v, w, timestamp\n";
  for (int i = 0; i < frames; ++i) {
    const cv::Mat image(480, 640, CV_8UC3, cv::Scalar(60 + i % 50, 90, 120));
    cv::imwrite((dir / (std::to_string(i) + ".png")).string(), image);
    csv += std::to_string(i) + ".png, 8.0, 0.5, " + std::to_string(0.05 * i) + "\n";
  }
  write_file_atomic(dir / "data.csv", csv);
  return dir;
}

}  // namespace pitlane::study::test_files
