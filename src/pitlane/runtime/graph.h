// The runtime's graph IR: what an ONNX file turns into, what the passes rewrite and what the
// backends compile. Plain data (values, nodes, attributes); no behaviour beyond look-ups.
//
//   Graph g = import_onnx(bytes, "model.onnx");      // symbolic: batch dimension = -1
//   Graph c = instantiate(g, /*batch=*/1);            // concrete shapes, constants folded
//   optimize(c);                                      // BN folding, fusion, views
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pitlane::runtime {

// Element types. Quantized tensors (u8, i8, i32) are held as exact integer-valued floats in the
// float storage and float buffers (u8/i8 exactly; i32 exactly up to 2^24, which covers every
// accumulator a calibrated int8 layer produces in practice), so every backend, the arena and the
// caller's float spans carry them unchanged. Kernels that compute in integers convert on the fly;
// the oneDNN backend keeps the tensors between its own int8 primitives as real u8/s8 bytes.
// i32 constants also keep their exact values in `i64`.
enum class DType : uint8_t { f32, i64, u8, i8, i32 };
const char* dtype_name(DType t);
bool is_quantized(DType t);  // u8, i8 or i32

// Every operator the importer accepts. Some only exist before the passes (Constant, Shape,
// Gather, ... are folded away; BatchNormalization becomes Affine or disappears into a Conv).
enum class Op : uint8_t {
  Conv,
  Gemm,
  MatMul,
  Add,
  Sub,
  Mul,
  Div,
  Relu,
  LeakyRelu,
  Elu,
  Sigmoid,
  Tanh,
  BatchNormalization,
  Flatten,
  Reshape,
  Transpose,
  Concat,
  Identity,
  Dropout,
  Cast,
  Shape,
  Gather,
  Unsqueeze,
  Squeeze,
  Affine,  // internal: y = x * scale[c] + shift[c] over axis 1 (a BatchNormalization left alone)
  // Quantization (ONNX default domain, and com.microsoft QGemm).
  QuantizeLinear,    // y = saturate(round(x / scale) + zero_point), per tensor or per axis
  DequantizeLinear,  // y = (x - zero_point) * scale
  QLinearConv,       // int8/uint8 conv, int32 bias, requantized output (+ fused activation)
  QLinearMatMul,     // int8/uint8 matrix product, requantized output
  QGemm,             // com.microsoft: int8 Gemm + int32 bias, quantized or float output
  ConvInteger,       // int32 output = sum (x - x_zp) * (w - w_zp)
  MatMulInteger,     // int32 output = (A - a_zp) * (B - b_zp)
  // DynamicQuantizeLinear is imported as these two plus a QuantizeLinear (one output each).
  DynamicQuantizeScale,      // internal: scalar (max(0, max x) - min(0, min x)) / 255
  DynamicQuantizeZeroPoint,  // internal: scalar uint8 zero point for that scale
};

const char* op_name(Op op);

// Activation applied to a node's output (fused by the passes; `none` before).
enum class Activation : uint8_t { none, relu, leaky_relu, elu, sigmoid, tanh };
struct FusedActivation {
  Activation kind = Activation::none;
  float alpha = 0.0f;  // LeakyRelu slope, Elu alpha
};

// Whether the oneDNN backend runs constant Gemm weights with many exact zeros (pruned models) on
// its sparse kernel (backends/onednn/sparse_gemm.h): automatic = where that is expected to be
// faster than the dense primitive, never = always dense, always = every canonical fp32 Gemm
// with a constant weight (tests).
enum class SparseGemmMode : uint8_t { automatic, never, always };

struct Attribute {
  enum class Kind : uint8_t { i, f, s, ints, floats } kind = Kind::i;
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};

// A tensor flowing through the graph: a graph input, an intermediate result or a constant.
struct Value {
  std::string name;
  DType dtype = DType::f32;
  bool has_shape = false;      // false until shape inference reaches it
  std::vector<int64_t> shape;  // dimensions; -1 = the dynamic batch dimension (symbolic graphs)
  bool is_const = false;       // an initializer or a folded result
  std::vector<float> f32;      // constant data when dtype is f32, u8, i8 or i32 (see DType)
  std::vector<int64_t> i64;    // constant data when dtype is i64, and the exact i32 values
};

struct Node {
  Op op = Op::Identity;
  std::string name;          // the ONNX node name, or "<op>_<index>" when the file has none
  std::vector<int> inputs;   // value ids; -1 = an optional input left out
  std::vector<int> outputs;  // value ids; -1 = an optional output left out
  std::map<std::string, Attribute> attrs;
  FusedActivation activation;  // applied to outputs[0] (set by fuse_activations)
};

struct Graph {
  std::string source;  // file name, for error messages
  int64_t opset = 0;   // default-domain opset version
  std::vector<Value> values;
  std::vector<Node> nodes;                      // in topological order
  std::vector<int> inputs;                      // runtime inputs (value ids, no initializers)
  std::vector<int> outputs;                     // graph outputs (value ids)
  std::map<std::string, std::string> metadata;  // metadata_props

  // Attribute look-ups with defaults; a present attribute of the wrong kind is an InputError.
  int64_t attr_int(const Node& n, const std::string& key, int64_t fallback) const;
  float attr_float(const Node& n, const std::string& key, float fallback) const;
  std::string attr_string(const Node& n, const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const Node& n, const std::string& key,
                                 std::vector<int64_t> fallback) const;
  // "model.onnx: node 'conv3' (Conv)" - the prefix of every error about a node.
  std::string where(const Node& n) const;
};

int64_t element_count(const std::vector<int64_t>& shape);

}  // namespace pitlane::runtime
