// Reference kernels: plain, readable loops over float32 tensors in NCHW / row-major layout.
// They are the oracle every other backend is tested against, they evaluate constants during
// folding, and the oneDNN backend falls back to them for the small operators it does not own.
//
// Lifecycle as everywhere in the runtime: prepare_kernel() reads the node and its (concrete)
// shapes once and returns plain parameters; run_kernel() only computes.
//
//   RefKernel k = prepare_kernel(graph, node);
//   run_kernel(k, {x, w, b}, y);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pitlane/runtime/graph.h"

namespace pitlane::runtime::reference {

struct ConvParams {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input batch, channels, height, width
  int64_t oc = 0, oh = 0, ow = 0;      // output channels, height, width
  int64_t kh = 0, kw = 0;              // kernel size
  int64_t sh = 1, sw = 1;              // strides
  int64_t dh = 1, dw = 1;              // dilations
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t group = 1;
  bool has_bias = false;
  FusedActivation activation;
};
// x [n,c,h,w], weights [oc, c/group, kh, kw], bias [oc] or null, y [n,oc,oh,ow].
void conv2d(const ConvParams& p, const float* x, const float* weights, const float* bias, float* y);

enum class BiasKind : uint8_t { none, scalar, per_column, per_row, full };
struct GemmParams {
  int64_t m = 0, n = 0, k = 0;  // y [m,n] = alpha * op(a) [m,k] * op(b) [k,n] + beta * c
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  BiasKind bias = BiasKind::none;  // c: scalar, [n], [m,1] or [m,n]
  FusedActivation activation;
};
void gemm(const GemmParams& p, const float* a, const float* b, const float* c, float* y);

// Element-wise activation in place: y = act(y).
void apply_activation(const FusedActivation& act, std::span<float> y);

// Binary operator with NumPy broadcasting; strides are 0 along broadcast dimensions.
struct BinaryParams {
  Op op = Op::Add;
  std::vector<int64_t> out_shape;
  std::vector<int64_t> a_strides, b_strides;  // per output dimension, in elements
};
void binary(const BinaryParams& p, const float* a, const float* b, float* y);

// y[o, c, i] = x[o, c, i] * scale[c] + shift[c]  (BatchNormalization that could not be folded).
struct AffineParams {
  int64_t outer = 0, channels = 0, inner = 0;
  FusedActivation activation;
};
void affine(const AffineParams& p, const float* x, const float* scale, const float* shift,
            float* y);

struct TransposeParams {
  std::vector<int64_t> out_shape;  // output dimensions
  std::vector<int64_t> strides;    // per output dimension: the input stride it walks, in elements
};
// Output dimension i is input dimension perm[i].
TransposeParams make_transpose(const std::vector<int64_t>& in_shape,
                               const std::vector<int64_t>& perm);
void transpose(const TransposeParams& p, const float* x, float* y);

struct ConcatParams {
  int64_t outer = 0;           // product of dimensions before the axis
  std::vector<int64_t> chunk;  // per input: its axis size times the inner size
};
void concat(const ConcatParams& p, std::span<const float* const> inputs, float* y);

// Quantized kernels (quant.cpp). Tensors hold integer-valued floats (see DType).
// Quantize / dequantize with x viewed as [outer, channels, inner] around the quantization axis.
struct QuantizeParams {
  int64_t outer = 0, channels = 1, inner = 0;
  bool per_channel = false;          // scale and zero point hold `channels` values
  float qmin = 0.0f, qmax = 255.0f;  // the output type's range (quantize only)
};
// y = saturate(round_half_even(x / scale) + zero_point); zero_point may be null (0).
void quantize_linear(const QuantizeParams& p, const float* x, const float* scale, const float* zp,
                     float* y);
// y = (x - zero_point) * scale.
void dequantize_linear(const QuantizeParams& p, const float* x, const float* scale, const float* zp,
                       float* y);
// DynamicQuantizeLinear's uint8 parameters for x, as ONNX Runtime computes them.
struct DynamicQuantization {
  float scale = 1.0f;
  float zero_point = 0.0f;
};
DynamicQuantization dynamic_quantization(std::span<const float> x);

// The output of an integer convolution / matrix product.
enum class QuantOutput : uint8_t {
  int32,        // the raw accumulator (ConvInteger, MatMulInteger)
  requantized,  // (u)int8 with y_scale and y_zero_point (QLinear*, QGemm with y_scale)
  dequantized,  // float: accumulator * x_scale * w_scale (QGemm without y_scale)
};
// Positions of the operands among the node's inputs (-1 = absent; zero points default to 0).
struct QuantOperands {
  int x = -1, x_scale = -1, x_zp = -1;  // activations (per tensor)
  int w = -1, w_scale = -1, w_zp = -1;  // weights (per tensor or per output channel)
  int y_scale = -1, y_zp = -1;          // output (per tensor)
  int bias = -1;                        // int32, added to the accumulator
};
struct QuantParams {
  QuantOperands at;
  QuantOutput output = QuantOutput::int32;
  bool w_scale_per_channel = false, w_zp_per_channel = false;
  float qmin = 0.0f, qmax = 255.0f;  // output range when requantized
  float alpha = 1.0f;                // QGemm's alpha (scales the accumulator)
  FusedActivation activation;        // relu only (clamps at the real value 0)
};
// Integer convolution: p's shapes and strides; in: the node's inputs.
void quantized_conv2d(const ConvParams& p, const QuantParams& q, std::span<const float* const> in,
                      float* y);
// Integer matrix product y[m,n] = op(A) op(B) (+ bias), per output column parameters.
void quantized_gemm(const GemmParams& p, const QuantParams& q, std::span<const float* const> in,
                    float* y);

// One prepared operator of any kind.
struct RefKernel {
  Op op = Op::Identity;
  ConvParams conv;
  GemmParams gemm;
  BinaryParams binary;
  AffineParams affine;
  TransposeParams transpose;
  ConcatParams concat;
  QuantizeParams quantize;
  QuantParams quant;
  FusedActivation activation;  // for unary eltwise ops: the function itself
  int64_t count = 0;           // output element count
};

// Reads `node` (with concrete shapes) into plain parameters; InputError for what it cannot run.
RefKernel prepare_kernel(const Graph& g, const Node& node);
// inputs: one pointer per node input (null for optional inputs left out).
void run_kernel(const RefKernel& k, std::span<const float* const> inputs, float* y);

// Broadcast strides of `shape` against `out_shape` (NumPy rules), in elements.
std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape,
                                       const std::vector<int64_t>& out_shape);

}  // namespace pitlane::runtime::reference
