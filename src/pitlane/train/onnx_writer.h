// Writes PilotNet as a self-describing ONNX model (opset 13, plain operators only).
//
// Graph: image [N,3,H,W] -> BatchNormalization -> (Conv with explicit pads -> Relu) x5 -> Flatten
// -> (Gemm transB=1 -> Relu) x4 -> Gemm -> vw [N,2]. The batch dimension is the dim_param "N".
// The metadata (preprocessing, output ranges, recipe, parent, training data, seed) goes into
// metadata_props (see pitlane/data/model_metadata.h). No auto_pad, no custom operators: ONNX
// Runtime and pitlane's runtime load it as it is.
//
//   write_pilotnet_onnx("model.onnx", weights, meta);   // atomic: temp file + rename
#pragma once

#include <filesystem>
#include <string>

#include "pitlane/data/model_metadata.h"
#include "pitlane/train/pilotnet.h"

namespace pitlane::train {

inline constexpr int kOnnxOpset = 13;

// The serialized ModelProto.
std::string pilotnet_onnx_bytes(const PilotNetWeights& net, const data::ModelMetadata& meta);

void write_pilotnet_onnx(const std::filesystem::path& path, const PilotNetWeights& net,
                         const data::ModelMetadata& meta);

}  // namespace pitlane::train
