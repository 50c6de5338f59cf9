// The graph IR: the one in-memory form of an ONNX model in pitlane. The importer (import.h)
// builds it from a file, shape inference (shapes.h) fills its shapes, the runtime's passes rewrite
// it and the backends compile it. Plain data (values, nodes, typed attributes); no behaviour
// beyond look-ups.
//
//   Graph g = onnx::read_graph("model.onnx");        // symbolic: batch dimension = -1
//   for (const Node& n : g.nodes)
//     if (n.op == Op::Conv) std::cout << g.where(n) << " group " << n.attrs.group << "\n";
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace pitlane::onnx {

// Element types. Quantized tensors (u8, i8, i32) are held as exact integer-valued floats in the
// float storage and float buffers (u8/i8 exactly; i32 exactly up to 2^24, which covers every
// accumulator a calibrated int8 layer produces in practice), so every backend, the arena and the
// caller's float spans carry them unchanged. Kernels that compute in integers convert on the fly;
// the oneDNN backend keeps the tensors between its own int8 primitives as real u8/s8 bytes.
// i32 constants also keep their exact values in `i64`. Half-precision files widen to f32.
enum class DType : uint8_t { f32, i64, u8, i8, i32 };
const char* dtype_name(DType t);
bool is_quantized(DType t);  // u8, i8 or i32

// Every operator the importer accepts (operators.h has the table). Some only exist before the
// passes (Constant, Shape, Gather, ... are folded away; BatchNormalization becomes Affine or
// disappears into a Conv).
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

// Activation applied to a node's output (fused by the runtime's passes; `none` before).
enum class Activation : uint8_t { none, relu, leaky_relu, elu, sigmoid, tanh };
struct FusedActivation {
  Activation kind = Activation::none;
  float alpha = 0.0f;  // LeakyRelu slope, Elu alpha
};

enum class AutoPad : uint8_t { notset, valid, same_upper, same_lower };

// Every attribute an operator of the table reads, typed, parsed once by the importer with that
// operator's ONNX defaults (operators.cpp). A field means something only for the operators named
// beside it. Shape inference rewrites the convolution fields into explicit form.
struct Attributes {
  // Conv, QLinearConv, ConvInteger (2-D only). After shape inference: explicit pads, notset.
  std::vector<int64_t> kernel_shape;         // [kh, kw]; empty = the weights' own
  std::vector<int64_t> strides = {1, 1};     // [sh, sw]
  std::vector<int64_t> dilations = {1, 1};   // [dh, dw]
  std::vector<int64_t> pads = {0, 0, 0, 0};  // [top, left, bottom, right]
  AutoPad auto_pad = AutoPad::notset;
  int64_t group = 1;
  // Gemm and QGemm (alpha, beta, transposes); LeakyRelu (alpha 0.01) and Elu (alpha 1) slopes.
  float alpha = 1.0f;
  float beta = 1.0f;
  bool trans_a = false, trans_b = false;
  // Flatten (default 1), Concat, Gather (0), QuantizeLinear / DequantizeLinear (1). After shape
  // inference: non-negative.
  int64_t axis = 0;
  std::vector<int64_t> perm;  // Transpose; empty = reversed (explicit after shape inference)
  std::vector<int64_t> axes;  // Squeeze / Unsqueeze before opset 13 (later: the second input)
  int64_t to = 0;             // Cast: the ONNX TensorProto data type to convert to
  // Shape: [start, end) of the dimensions; explicit and clamped after shape inference.
  int64_t start = 0;
  int64_t end = std::numeric_limits<int64_t>::max();
  float epsilon = 1e-5f;       // BatchNormalization
  bool training_mode = false;  // BatchNormalization (true is refused)
  bool allowzero = false;      // Reshape
  int64_t output_dtype = 0;    // QuantizeLinear (opset 21): 0 = from the zero point
  int64_t block_size = 0;      // QuantizeLinear / DequantizeLinear: blocked (refused)
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
  int32_t file_type = 0;       // constants: the TensorProto data type in the file (0 = computed)
};

struct Node {
  Op op = Op::Identity;
  std::string name;          // the ONNX node name, or "<op>_<index>" when the file has none
  std::vector<int> inputs;   // value ids; -1 = an optional input left out
  std::vector<int> outputs;  // value ids; -1 = an optional output left out
  Attributes attrs;
  FusedActivation activation;  // applied to outputs[0] (set by the runtime's fusion pass)
};

struct Graph {
  std::string source;  // file name, for error messages
  int64_t opset = 0;   // default-domain opset version
  std::vector<Value> values;
  std::vector<Node> nodes;                      // in topological order
  std::vector<int> inputs;                      // runtime inputs (value ids, no initializers)
  std::vector<int> outputs;                     // graph outputs (value ids)
  std::map<std::string, std::string> metadata;  // metadata_props

  // "model.onnx: node 'conv3' (Conv)" - the prefix of every error about a node.
  std::string where(const Node& n) const;
  // The value called `name`, or nullptr.
  const Value* find_value(const std::string& name) const;
};

int64_t element_count(const std::vector<int64_t>& shape);

}  // namespace pitlane::onnx
