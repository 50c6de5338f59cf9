// Quantized vs float, layer by layer, on real frames: the debugger that shows which layer broke
// a model (ONNX Runtime's qdq_loss_debug and TFLite's QuantizationDebugger in one JSON object and
// a terminal table).
//
// Two errors per layer:
//   - accumulated: the float model's result at this layer against the optimized model's, each
//     run end to end on the same frame (SQNR, cosine, largest error, MSE). Errors of every layer
//     before it add up here, so it only grows along the network.
//   - own: the layer alone. The tensor the optimized model feeds this layer is run through the
//     layer's float twin (same node, float weights, its Relu), and compared with what the
//     optimized layer made of the same input. The layer with the lowest own SQNR is the one that
//     loses the most by itself; where the accumulated SQNR drops is where the model broke.
//
//   LayerPairs pairs = {{.layer = "conv1", .float_tensor = "conv1.act", .quant_tensor =
//                        "conv1.act_quantized_dequantized", .quant_input = "x", .precision =
//                        "int8"}, ...};
//   nlohmann::json layers = compare_layers({float_model, quant_model, prepared}, pairs,
//                                          float_images, quant_images);
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
  // The tensor the optimized model feeds this layer (its node's first input); empty: the own
  // error is not computed (the optimized model has no node of this name, as in dynamic-int8).
  std::string quant_input;
  std::string precision;  // "int8", "fp32", "float16", "bf16", "int8 dynamic" ("" unknown)
};

struct ComparedModels {
  const ::onnx::ModelProto& reference;  // the float model, run on the float images
  const ::onnx::ModelProto& optimized;  // run on the quant images
  // The float model the recipe rewrote (batch norms folded, int8-only's normalization
  // prepended): its node of each layer's name, with that node's Relu, is the layer's float twin.
  const ::onnx::ModelProto& twins;
};

// [{"layer", "tensor", "precision", "sqnr_db", "cosine", "max_abs_error", "mse",
//   "own_sqnr_db", "own_max_abs_error"}, ...] in the pairs' order; the own figures are null where
// the pair has no quant_input.
nlohmann::json compare_layers(const ComparedModels& models, const std::vector<LayerPair>& pairs,
                              const std::vector<std::vector<float>>& float_images,
                              const std::vector<std::vector<float>>& quant_images);

// The precision each layer of `optimized` computes in, judged by how its node reads its weight:
// "int8" (DequantizeLinear of int8), "float16" / "bf16" (Cast of 16-bit weights), "fp32" (float
// initializer), "int8 dynamic" (ConvInteger / MatMulInteger named LAYER_integer), "" otherwise.
std::string layer_precision(const ::onnx::ModelProto& optimized, const std::string& layer);

// The report's terminal form: the recipe, sizes, one row per layer, the worst layers.
std::string report_table(const nlohmann::json& report);

}  // namespace pitlane::quant
