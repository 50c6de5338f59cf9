// Quantized vs float, layer by layer: SQNR and cosine similarity of each layer's result on the
// calibration images (ONNX Runtime's quantization debugger and Polygraphy's comparison, in one
// JSON object and a terminal table).
//
//   LayerPairs pairs = {{"conv1", "conv1.act", "conv1.act_quantized_dequantized"}, ...};
//   nlohmann::json layers = compare_layers(float_model, quant_model, pairs, float_images,
//                                          quant_images);
//   std::cout << report_table(report);
#pragma once

#include <onnx/onnx_pb.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pitlane/data/model_metadata.h"

namespace pitlane::quant {

struct LayerPair {
  std::string layer;            // node name in the float model
  std::string float_tensor;     // its result in the float model
  std::string quant_tensor;     // the same quantity in the optimized model
  data::OutputQuantization dq;  // applied to quant_tensor's values (int8 outputs)
};

// [{"layer", "tensor", "sqnr_db", "cosine", "max_abs_error"}, ...] in the pairs' order.
nlohmann::json compare_layers(const ::onnx::ModelProto& float_model,
                              const ::onnx::ModelProto& quant_model,
                              const std::vector<LayerPair>& pairs,
                              const std::vector<std::vector<float>>& float_images,
                              const std::vector<std::vector<float>>& quant_images);

// The report's terminal form: the recipe, sizes, one row per layer, the worst layers.
std::string report_table(const nlohmann::json& report);

}  // namespace pitlane::quant
