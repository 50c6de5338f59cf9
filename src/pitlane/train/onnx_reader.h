// Reads a pitlane-written PilotNet ONNX file back into plain weights, so that fine-tuning
// (DAgger rounds, the training-time optimization recipes) starts from a model on disk.
//
// Only models that write_pilotnet_onnx produced are accepted: the architecture comes from the
// metadata (pitlane.arch) and every initializer must be present with its expected shape. Anything
// else is an InputError naming the file and the tensor.
//
//   data::ModelMetadata meta;
//   PilotNetWeights net = read_pilotnet_onnx("pilotnet.onnx", &meta);
#pragma once

#include <filesystem>

#include "pitlane/data/model_metadata.h"
#include "pitlane/train/pilotnet.h"

namespace pitlane::train {

// The weights of a pitlane-written PilotNet; its metadata too when `meta` is given.
PilotNetWeights read_pilotnet_onnx(const std::filesystem::path& path,
                                   data::ModelMetadata* meta = nullptr);

}  // namespace pitlane::train
