// What a pitlane model says about itself: the ONNX `metadata_props` schema.
//
// Every model pitlane writes carries, as string key/value pairs, what a brain needs to use it:
// how to preprocess a camera frame, what the outputs are and how to de-normalize them, and where
// the model came from. This module parses and prints those pairs; it knows nothing of ONNX files
// or libtorch, so the runtime and the neural brain can use it as well as the trainer.
//
//   ModelMetadata meta;                       // defaults: the study's PilotNet conventions
//   meta.arch = "pilotnet";
//   auto props = to_props(meta);              // {"pitlane.preprocess": "{...}", ...}
//   ModelMetadata back = metadata_from_props(props, "model.onnx");
//   double v = meta.outputs.denormalize(0, 0.5);   // 15.25 m/s
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pitlane::data {

// How a 640x480 camera frame becomes the network's input tensor.
struct PreprocessSpec {
  int crop_row_begin = 240;              // first image row kept (inclusive)
  int crop_row_end = 480;                // last image row kept (exclusive)
  int width = 200;                       // network input width after resize, px
  int height = 66;                       // network input height after resize, px
  std::string interpolation = "linear";  // resize filter: "linear", "area" or "nearest"
  std::string color = "rgb";             // channel order the network expects: "rgb" or "bgr"
  std::vector<double> mean = {0.485, 0.456, 0.406};  // per channel, after dividing by scale
  std::vector<double> std = {0.229, 0.224, 0.225};   // per channel, after dividing by scale
  std::string layout = "nchw";                       // "nchw" or "nhwc"
  double scale = 255.0;  // pixel values are divided by this before mean/std

  bool operator==(const PreprocessSpec&) const = default;
};

// Names of the network's outputs and the physical ranges that [0, 1] maps onto.
struct OutputSpec {
  std::vector<std::string> names = {"v", "w"};  // v: m/s, w: rad/s
  std::vector<double> min = {6.5, -7.1};        // physical value of a normalized 0
  std::vector<double> max = {24.0, 7.1};        // physical value of a normalized 1

  // Physical value of output i from its normalized value.
  double denormalize(size_t i, double normalized) const {
    return min[i] + normalized * (max[i] - min[i]);
  }
  // Normalized value of output i, clipped to [0, 1].
  double normalize(size_t i, double physical) const;

  bool operator==(const OutputSpec&) const = default;
};

// How to read a quantized output (int8-only models): value = (q - zero_point) * scale.
struct OutputQuantization {
  double scale = 0.0;  // 0: the output is float, nothing to de-quantize
  int zero_point = 0;  // in the output's integer type
  bool present() const { return scale > 0.0; }
  double dequantize(double q) const { return present() ? (q - zero_point) * scale : q; }

  bool operator==(const OutputQuantization&) const = default;
};

struct ModelMetadata {
  PreprocessSpec preprocess;
  OutputSpec outputs;
  std::string arch;                        // "pilotnet", "pilotnet-same" or "" if unknown
  std::string recipe = "baseline";         // the optimization recipe that produced the model
  std::string parent;                      // "file.onnx sha256:HEX" of the parent, or ""
  std::vector<std::string> training_data;  // recording folder names the model was trained on
  std::string seed;                        // training seed as text, "" if unknown
  OutputQuantization output_quantization;  // int8-only models: how to de-quantize the output

  bool operator==(const ModelMetadata&) const = default;
};

// The keys written into metadata_props.
inline constexpr const char* kPreprocessKey = "pitlane.preprocess";
inline constexpr const char* kOutputsKey = "pitlane.outputs";
inline constexpr const char* kRecipeKey = "pitlane.recipe";
inline constexpr const char* kParentKey = "pitlane.parent";
inline constexpr const char* kArchKey = "pitlane.arch";
inline constexpr const char* kTrainingDataKey = "pitlane.training_data";
inline constexpr const char* kSeedKey = "pitlane.seed";
inline constexpr const char* kOutputQuantizationKey = "pitlane.output_quantization";

std::map<std::string, std::string> to_props(const ModelMetadata& meta);

// Parses metadata_props. Missing keys keep their defaults (the study's conventions), so models
// written by other tools load as they are; malformed values raise InputError naming `source`
// (the model file) and the key.
ModelMetadata metadata_from_props(const std::map<std::string, std::string>& props,
                                  const std::string& source);

// JSON text of one part, as stored under its key.
std::string preprocess_to_json(const PreprocessSpec& spec);
std::string outputs_to_json(const OutputSpec& spec);

}  // namespace pitlane::data
