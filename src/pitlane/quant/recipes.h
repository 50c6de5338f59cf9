// The graph rewriters behind each optimization recipe, on an ONNX ModelProto (float in, the
// recipe's format out). Calibration and file handling live in optimize.h; these functions only
// edit graphs, so tests can apply them to small hand-built models.
//
//   fold_batchnorm_into_conv(model);                        // exact float preparation
//   auto points = activation_points(model, /*int8_only=*/false);
//   ... calibrate: one Range per point ...
//   StaticQuantization q = quantize_static(model, ranges, {});
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pitlane/quant/observer.h"

namespace pitlane::quant {

// float16 / bf16: every float initializer stored in 16 bits, widened by a Cast node.
void convert_weights_to_half(::onnx::ModelProto& model, bool bfloat16);

// Folds each BatchNormalization whose only reader is a Conv without padding into that Conv
// (exact; with padding the border would differ, so it stays). Repeats through chains.
void fold_batchnorm_into_conv(::onnx::ModelProto& model);

// Inserts, on the graph input, a BatchNormalization doing x / pixel_scale - mean) / std per
// channel, so a model that took normalized floats takes raw pixel values.
void prepend_normalization(::onnx::ModelProto& model, double pixel_scale,
                           const std::vector<double>& mean, const std::vector<double>& std);

// dynamic-int8: Conv -> DynamicQuantizeLinear + ConvInteger, Gemm/MatMul -> DynamicQuantizeLinear
// + MatMulInteger, each followed by Cast, the scale product (Mul) and the bias (Add); int8 weights
// symmetric per output channel.
void quantize_dynamic(::onnx::ModelProto& model);

// A Conv / Gemm / MatMul with constant weights that the int8 recipes quantize.
bool is_quantizable(const ::onnx::GraphProto& g, const ::onnx::NodeProto& n);

// The quantizable layers in graph order, each named by its node's name (its first output when the
// node has none): the names StaticOptions::layers and the per-layer reports use.
std::vector<std::string> quantizable_layers(const ::onnx::ModelProto& model);
std::string layer_name(const ::onnx::NodeProto& n);

// The activation tensors static quantization needs ranges for: every quantized node's input
// (before a Flatten/Reshape, which then runs on the quantized tensor) and output (after its Relu);
// the graph output only when int8_only. `layers`: only these layers' points (nullopt: every
// quantizable layer).
std::vector<std::string> activation_points(
    const ::onnx::ModelProto& model, bool int8_only,
    const std::optional<std::set<std::string>>& layers = std::nullopt);

struct StaticOptions {
  bool int8_only = false;  // uint8 graph input (scale 1, zero point 0) and int8 graph output
  // Mixed precision: only these layers (quantizable_layers() names) become int8; every other
  // node is left exactly as it was (same attributes, same float initializers), reading the
  // dequantized tensor where its input is a quantized layer's result. nullopt: every layer.
  // Not with int8_only (its uint8 input and int8 output need every layer quantized).
  std::optional<std::set<std::string>> layers;
};

struct StaticQuantization {
  // Float tensor -> the tensor carrying its quantized-dequantized value in the new graph.
  std::map<std::string, std::string> dequantized;
  std::map<std::string, AffineParams> params;  // per activation point
  AffineParams output;                         // int8_only: the graph output's parameters
};

// int8 / int8-only: QDQ format. Activations uint8 per tensor from `ranges`, weights int8
// symmetric per output channel, bias int32 at x_scale * w_scale. InputError when
// options.layers names a layer the model does not have.
StaticQuantization quantize_static(::onnx::ModelProto& model,
                                   const std::map<std::string, Range>& ranges,
                                   const StaticOptions& options);

}  // namespace pitlane::quant
