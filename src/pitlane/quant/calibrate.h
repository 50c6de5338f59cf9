// Calibration data and probes: images from recordings, preprocessed as the model expects, and
// runs of a model on pitlane's runtime that expose intermediate tensors.
//
//   auto images = calibration_images(dirs, meta.preprocess, 100, /*seed=*/0);
//   auto ranges = calibrate(model, points, images, CalibrationMethod::minmax);
//   probe(model, {"conv1.act"}, images, [&](size_t image, size_t tensor, std::span<const float> v)
//   {});
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pitlane/data/model_metadata.h"
#include "pitlane/quant/observer.h"

namespace pitlane::quant {

// `count` frames drawn (seeded, without replacement) from the recordings, each preprocessed by
// `spec` into one network input. InputError when the folders hold no frames.
std::vector<std::vector<float>> calibration_images(std::span<const std::filesystem::path> dirs,
                                                   const data::PreprocessSpec& spec, int count,
                                                   uint64_t seed);

// Runs `model` (batch 1, pitlane's runtime) on every image and hands each requested tensor to
// `visit(image index, tensor index, values)`. Tensors become extra graph outputs of a copy.
// Returns each tensor's concrete shape (batch 1).
using ProbeVisitor = std::function<void(size_t, size_t, std::span<const float>)>;
std::vector<std::vector<int64_t>> probe(const ::onnx::ModelProto& model,
                                        const std::vector<std::string>& tensors,
                                        const std::vector<std::vector<float>>& images,
                                        const ProbeVisitor& visit);

// The range of each tensor over the images, by `method` (two probe passes).
std::map<std::string, Range> calibrate(const ::onnx::ModelProto& model,
                                       const std::vector<std::string>& tensors,
                                       const std::vector<std::vector<float>>& images,
                                       CalibrationMethod method);

}  // namespace pitlane::quant
