// Quantized operators against ONNX Runtime: QuantizeLinear / DequantizeLinear (per tensor and
// per channel), QLinearConv, QLinearMatMul, com.microsoft QGemm, DynamicQuantizeLinear +
// ConvInteger / MatMulInteger, and QDQ graphs that pitlane fuses into integer kernels. Graphs
// are built here; both backends must agree with ORT within one quantization step (integer
// outputs: |difference| <= 1, float outputs: within one output scale).
#include <gtest/gtest.h>

#include <random>

#include "onnx_builder.h"
#include "ort_oracle.h"
#include "pitlane/runtime/model.h"
#include "test_util.h"

namespace pitlane::runtime {
namespace {

using namespace testing;
using ::onnx::TensorProto;

std::vector<int32_t> random_ints(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// How many steps of the oneDNN plan run as int8 primitives (the rest: reference kernels).
int int8_steps(const std::string& bytes) {
  const Model model = Model::from_bytes(bytes, "int8_steps");
  Session s(model, {.backend = Backend::onednn});
  int count = 0;
  for (size_t i = 0; i < s.num_steps(); ++i) count += s.step_name(i).ends_with("[int8]");
  return count;
}

struct Input {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
  std::string descr = "<f4";
};

// Runs `bytes` in ORT and on both backends; every output must agree within `tolerance`
// (absolute). Returns the largest difference seen per backend for further checks.
void expect_matches_ort(const std::string& name, const std::string& bytes,
                        const std::vector<Input>& inputs, float tolerance) {
  if (!have_ort())
    FAIL() << "node or tools/interop/node_modules missing: run scripts/install-deps.sh";
  OrtOracle ort(name);
  std::map<std::string, NpyData> feeds;
  for (const auto& in : inputs) feeds[in.name] = NpyData{in.shape, in.data, in.descr};
  const auto expected = ort.run(bytes, feeds);
  const Model model = Model::from_bytes(bytes, name);
  for (Backend backend : {Backend::reference, Backend::onednn}) {
    Session s(model, {.backend = backend, .batch = inputs[0].shape[0]});
    std::vector<std::span<const float>> ins;
    for (const auto& in : inputs) ins.emplace_back(in.data);
    std::vector<std::vector<float>> outs;
    for (const auto& o : s.outputs()) outs.emplace_back(o.element_count());
    std::vector<std::span<float>> out_spans(outs.begin(), outs.end());
    s.run(ins, out_spans);
    for (size_t o = 0; o < outs.size(); ++o) {
      const auto& want = expected.at(s.outputs()[o].name);
      ASSERT_EQ(want.data.size(), outs[o].size());
      size_t exact = 0;
      for (size_t i = 0; i < outs[o].size(); ++i) exact += want.data[i] == outs[o][i];
      EXPECT_LE(max_abs_diff(want.data, outs[o]), tolerance)
          << name << " output " << s.outputs()[o].name << " on " << backend_name(backend);
      // Off-by-one rounding is allowed, but it must stay rare.
      EXPECT_GE(exact, outs[o].size() * 9 / 10) << name << " " << backend_name(backend);
    }
  }
}

TEST(QuantOps, QuantizeDequantizePerTensor) {
  for (int type : {TensorProto::UINT8, TensorProto::INT8}) {
    OnnxBuilder b(13);
    b.input("x", {-1, 3, 4, 5});
    b.init("s", {}, {0.03f});
    b.init_int("zp", {}, type, {type == TensorProto::UINT8 ? 120 : -7});
    b.node("QuantizeLinear", {"x", "s", "zp"}, {"q"});
    b.node("DequantizeLinear", {"q", "s", "zp"}, {"dq"});
    b.output("q", type).output("dq");
    expect_matches_ort("q_tensor", b.bytes(), {{"x", {2, 3, 4, 5}, uniform(120, -5, 5, 1)}}, 0.0f);
  }
}

TEST(QuantOps, QuantizeDequantizePerChannel) {
  OnnxBuilder b(13);
  b.input("x", {-1, 3, 4, 5});
  b.init("s", {4}, {0.01f, 0.02f, 0.05f, 0.1f});
  b.init_int("zp", {4}, TensorProto::INT8, {0, -3, 5, 10});
  b.node("QuantizeLinear", {"x", "s", "zp"}, {"q"}, {attr_int("axis", 2)});
  b.node("DequantizeLinear", {"q", "s", "zp"}, {"dq"}, {attr_int("axis", 2)});
  b.output("q", TensorProto::INT8).output("dq");
  expect_matches_ort("q_channel", b.bytes(), {{"x", {2, 3, 4, 5}, uniform(120, -4, 4, 2)}}, 0.0f);
}

// QuantizeLinear -> QLinearConv (int32 bias, pads, stride) -> uint8 output.
std::string qlinear_conv(bool per_channel, int w_type) {
  const int64_t oc = 6, c = 4, k = 3;
  OnnxBuilder b(13);
  b.input("x", {-1, c, 9, 11});
  b.init("xs", {}, {0.02f});
  b.init_int("xzp", {}, TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"x", "xs", "xzp"}, {"xq"});
  const bool u8 = w_type == TensorProto::UINT8;
  b.init_int("w", {oc, c, k, k}, w_type,
             random_ints(oc * c * k * k, u8 ? 0 : -127, u8 ? 255 : 127, 3));
  if (per_channel) {
    b.init("ws", {oc}, uniform(oc, 0.002f, 0.01f, 4));
    b.init_int("wzp", {oc}, w_type, std::vector<int32_t>(oc, u8 ? 128 : 0));
  } else {
    b.init("ws", {}, {0.005f});
    b.init_int("wzp", {}, w_type, {u8 ? 131 : 0});
  }
  b.init("ys", {}, {0.15f});
  b.init_int("yzp", {}, TensorProto::UINT8, {100});
  b.init_int("bias", {oc}, TensorProto::INT32, random_ints(oc, -2000, 2000, 5));
  b.node("QLinearConv", {"xq", "xs", "xzp", "w", "ws", "wzp", "ys", "yzp", "bias"}, {"y"},
         {attr_ints("pads", {1, 0, 1, 2}), attr_ints("strides", {2, 1})});
  b.output("y", TensorProto::UINT8);
  return b.bytes();
}

TEST(QuantOps, QLinearConvPerTensor) {
  expect_matches_ort("qconv_tensor", qlinear_conv(false, TensorProto::UINT8),
                     {{"x", {2, 4, 9, 11}, uniform(2 * 4 * 99, -2.5f, 2.5f, 6)}}, 1.0f);
}

TEST(QuantOps, QLinearConvPerChannel) {
  expect_matches_ort("qconv_channel", qlinear_conv(true, TensorProto::INT8),
                     {{"x", {2, 4, 9, 11}, uniform(2 * 4 * 99, -2.5f, 2.5f, 7)}}, 1.0f);
}

TEST(QuantOps, QLinearMatMul) {
  OnnxBuilder b(13);
  b.input("a", {-1, 16});
  b.init("as", {}, {0.02f});
  b.init_int("azp", {}, TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"a", "as", "azp"}, {"aq"});
  b.init_int("b", {16, 8}, TensorProto::UINT8, random_ints(128, 0, 255, 8));
  b.init("bs", {}, {0.01f});
  b.init_int("bzp", {}, TensorProto::UINT8, {120});
  b.init("ys", {}, {0.05f});
  b.init_int("yzp", {}, TensorProto::UINT8, {128});
  b.node("QLinearMatMul", {"aq", "as", "azp", "b", "bs", "bzp", "ys", "yzp"}, {"y"});
  b.output("y", TensorProto::UINT8);
  expect_matches_ort("qmatmul", b.bytes(), {{"a", {3, 16}, uniform(48, -2, 2, 9)}}, 1.0f);
}

// com.microsoft QGemm, transB=1, per-column int8 weights, int32 bias; quantized or float output.
std::string qgemm(bool quantized_output) {
  const int64_t k = 24, n = 10;
  OnnxBuilder b(13);
  b.domain("com.microsoft", 1);
  b.input("a", {-1, k});
  b.init("as", {}, {0.02f});
  b.init_int("azp", {}, TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"a", "as", "azp"}, {"aq"});
  b.init_int("b", {n, k}, TensorProto::INT8, random_ints(n * k, -127, 127, 10));
  b.init("bs", {n}, uniform(n, 0.002f, 0.01f, 11));
  b.init_int("bzp", {n}, TensorProto::INT8, std::vector<int32_t>(n, 0));
  b.init_int("c", {n}, TensorProto::INT32, random_ints(n, -3000, 3000, 12));
  std::vector<std::string> in = {"aq", "as", "azp", "b", "bs", "bzp", "c"};
  if (quantized_output) {
    b.init("ys", {}, {0.04f});
    b.init_int("yzp", {}, TensorProto::UINT8, {110});
    in.push_back("ys");
    in.push_back("yzp");
  }
  b.node("QGemm", in, {"y"}, {attr_int("transB", 1)}, "qgemm", "com.microsoft");
  b.output("y", quantized_output ? TensorProto::UINT8 : TensorProto::FLOAT);
  return b.bytes();
}

TEST(QuantOps, QGemmQuantizedOutput) {
  expect_matches_ort("qgemm_q", qgemm(true), {{"a", {4, 24}, uniform(96, -2, 2, 13)}}, 1.0f);
}

TEST(QuantOps, QGemmFloatOutput) {
  expect_matches_ort("qgemm_f", qgemm(false), {{"a", {4, 24}, uniform(96, -2, 2, 14)}}, 1e-4f);
}

// ONNX Runtime's dynamic quantization of a Conv: DynamicQuantizeLinear, ConvInteger, Cast, Mul.
// uint8 weights with a zero point (reference kernel) and int8 symmetric ones (oneDNN).
void dynamic_conv_integer(int w_type) {
  const int64_t oc = 5, c = 3, k = 3;
  const bool u8 = w_type == TensorProto::UINT8;
  OnnxBuilder b(13);
  b.input("x", {-1, c, 8, 10});
  b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xzp"});
  b.init_int("w", {oc, c, k, k}, w_type,
             random_ints(oc * c * k * k, u8 ? 0 : -127, u8 ? 255 : 127, 15));
  b.init_int("wzp", {}, w_type, {u8 ? 127 : 0});
  b.node("ConvInteger", {"xq", "w", "xzp", "wzp"}, {"acc"}, {attr_ints("pads", {1, 1, 1, 1})});
  b.node("Cast", {"acc"}, {"accf"}, {attr_int("to", TensorProto::FLOAT)});
  b.init("ws", {}, {0.004f});
  b.node("Mul", {"xs", "ws"}, {"scale"});
  b.node("Mul", {"accf", "scale"}, {"y"});
  b.output("y").output("xzp", TensorProto::UINT8).output("acc", TensorProto::INT32);
  // Symmetric int8 weights run on oneDNN's int8 convolution with a runtime source zero point.
  EXPECT_EQ(int8_steps(b.bytes()), u8 ? 0 : 1);
  expect_matches_ort("dyn_conv", b.bytes(), {{"x", {2, c, 8, 10}, uniform(480, -1.5f, 3, 16)}},
                     1e-4f);
}

TEST(QuantOps, DynamicConvIntegerUint8Weights) {
  dynamic_conv_integer(TensorProto::UINT8);
}

TEST(QuantOps, DynamicConvIntegerInt8Weights) {
  dynamic_conv_integer(TensorProto::INT8);
}

// Per-column uint8 zero points (reference kernel) and int8 symmetric weights (oneDNN).
void dynamic_matmul_integer(int w_type) {
  const int64_t k = 300, n = 37;
  const bool u8 = w_type == TensorProto::UINT8;
  OnnxBuilder b(13);
  b.input("a", {-1, k});
  b.node("DynamicQuantizeLinear", {"a"}, {"aq", "as", "azp"});
  b.init_int("b", {k, n}, w_type, random_ints(k * n, u8 ? 0 : -127, u8 ? 255 : 127, 17));
  b.init_int("bzp", {n}, w_type, u8 ? random_ints(n, 100, 150, 18) : std::vector<int32_t>(n, 0));
  b.node("MatMulInteger", {"aq", "b", "azp", "bzp"}, {"acc"});
  b.node("Cast", {"acc"}, {"accf"}, {attr_int("to", TensorProto::FLOAT)});
  b.init("bs", {n}, uniform(n, 0.001f, 0.01f, 19));
  b.node("Mul", {"as", "bs"}, {"scale"});
  b.node("Mul", {"accf", "scale"}, {"y"});
  b.output("y").output("as");
  // Symmetric int8 weights run on oneDNN's int8 matmul with a runtime source zero point.
  EXPECT_EQ(int8_steps(b.bytes()), u8 ? 0 : 1);
  expect_matches_ort("dyn_matmul", b.bytes(), {{"a", {3, k}, uniform(3 * k, -3, 2, 20)}}, 1e-4f);
}

TEST(QuantOps, DynamicMatMulIntegerPerColumnUint8) {
  dynamic_matmul_integer(TensorProto::UINT8);
}

TEST(QuantOps, DynamicMatMulIntegerInt8) {
  dynamic_matmul_integer(TensorProto::INT8);
}

// A QDQ Conv + Relu + Gemm chain (int8 per-channel weights, int32 bias through
// DequantizeLinear, as ONNX Runtime's static quantizer writes it). pitlane fuses it into
// QLinearConv and QGemm; ORT fuses it too. Float output within one output step.
std::string qdq_chain(float y_scale) {
  const int64_t oc = 8, c = 3, k = 3;
  OnnxBuilder b(13);
  b.input("x", {-1, c, 10, 12});
  b.init("xs", {}, {0.02f});
  b.init_int("xzp", {}, TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"x", "xs", "xzp"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "xs", "xzp"}, {"xd"});
  const auto ws = uniform(oc, 0.003f, 0.01f, 21);
  b.init_int("w", {oc, c, k, k}, TensorProto::INT8, random_ints(oc * c * k * k, -127, 127, 22));
  b.init("ws", {oc}, ws);
  b.init_int("wzp", {oc}, TensorProto::INT8, std::vector<int32_t>(oc, 0));
  b.node("DequantizeLinear", {"w", "ws", "wzp"}, {"wd"}, {attr_int("axis", 0)});
  std::vector<float> bias_scale(oc);
  for (int64_t i = 0; i < oc; ++i) bias_scale[i] = 0.02f * ws[i];
  b.init_int("b", {oc}, TensorProto::INT32, random_ints(oc, -500, 500, 23));
  b.init("bs", {oc}, bias_scale);
  b.init_int("bzp", {oc}, TensorProto::INT32, std::vector<int32_t>(oc, 0));
  b.node("DequantizeLinear", {"b", "bs", "bzp"}, {"bd"}, {attr_int("axis", 0)});
  b.node("Conv", {"xd", "wd", "bd"}, {"conv"}, {attr_ints("strides", {2, 2})});
  b.node("Relu", {"conv"}, {"relu"});
  b.init("ys", {}, {y_scale});
  b.init_int("yzp", {}, TensorProto::UINT8, {0});
  b.node("QuantizeLinear", {"relu", "ys", "yzp"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "ys", "yzp"}, {"yd"});
  b.node("Flatten", {"yd"}, {"flat"});
  const int64_t flat = oc * 4 * 5, n = 4;
  b.init_int("fw", {n, flat}, TensorProto::INT8, random_ints(n * flat, -127, 127, 24));
  b.init("fs", {}, {0.004f});
  b.node("DequantizeLinear", {"fw", "fs"}, {"fwd"});
  b.init("fb", {n}, uniform(n, -0.1f, 0.1f, 25));
  b.node("Gemm", {"flat", "fwd", "fb"}, {"fc"}, {attr_int("transB", 1)});
  b.init("fcs", {}, {0.05f});
  b.init_int("fczp", {}, TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"fc", "fcs", "fczp"}, {"fcq"});
  b.node("DequantizeLinear", {"fcq", "fcs", "fczp"}, {"y"});
  b.output("y");
  return b.bytes();
}

TEST(QuantOps, QdqChainFusesAndMatchesOrt) {
  const std::string bytes = qdq_chain(0.01f);
  const Model model = Model::from_bytes(bytes, "qdq");
  Session s(model, {.backend = Backend::reference});
  int fused = 0;
  for (const Node& n : s.graph().nodes) fused += n.op == Op::QLinearConv || n.op == Op::QGemm;
  EXPECT_EQ(fused, 2);
  // On oneDNN both run as int8 primitives.
  Session dnn(model, {.backend = Backend::onednn});
  int int8_steps = 0;
  for (size_t i = 0; i < dnn.num_steps(); ++i) int8_steps += dnn.step_name(i).ends_with("[int8]");
  EXPECT_EQ(int8_steps, 2);
  // One step of the Conv's output (0.01) and of the Gemm's (0.05); the Gemm may also see a
  // one-step difference at its input (amplified by at most |w| * K * 0.01 ~ 0.1, rare).
  expect_matches_ort("qdq_chain", bytes, {{"x", {2, 3, 10, 12}, uniform(720, -2, 2, 26)}}, 0.1f);
}

// ONNX Runtime's quantizer in per-tensor mode writes a bias's scale and zero point as 1-element
// 1-D tensors with no axis attribute (the default axis 1 does not exist in a rank-1 bias). One
// scale is per tensor whatever its rank, as ONNX Runtime reads it.
TEST(QuantOps, PerTensorQdqWithOneElementBiasScaleMatchesOrt) {
  const int64_t oc = 4, c = 2, k = 3;
  OnnxBuilder b(13);
  b.input("x", {-1, c, 7, 7});
  b.init("xs", {}, {0.03f});
  b.init_int("xzp", {}, TensorProto::UINT8, {120});
  b.node("QuantizeLinear", {"x", "xs", "xzp"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "xs", "xzp"}, {"xd"});
  b.init_int("w", {oc, c, k, k}, TensorProto::INT8, random_ints(oc * c * k * k, -127, 127, 31));
  b.init("ws", {}, {0.006f});
  b.init_int("wzp", {}, TensorProto::INT8, {0});
  b.node("DequantizeLinear", {"w", "ws", "wzp"}, {"wd"});
  b.init_int("b", {oc}, TensorProto::INT32, random_ints(oc, -300, 300, 32));
  b.init("bs", {1}, {0.03f * 0.006f});
  b.init_int("bzp", {1}, TensorProto::INT32, {0});
  b.node("DequantizeLinear", {"b", "bs", "bzp"}, {"bd"});
  b.node("Conv", {"xd", "wd", "bd"}, {"conv"});
  b.init("ys", {}, {0.02f});
  b.init_int("yzp", {}, TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"conv", "ys", "yzp"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "ys", "yzp"}, {"y"});
  b.output("y");
  const Model model = Model::from_bytes(b.bytes(), "ort_per_tensor");
  Session s(model, {.backend = Backend::reference});
  int fused = 0;
  for (const Node& n : s.graph().nodes) fused += n.op == Op::QLinearConv;
  EXPECT_EQ(fused, 1);
  // One output step.
  expect_matches_ort("ort_per_tensor", b.bytes(), {{"x", {2, c, 7, 7}, uniform(196, -2, 2, 33)}},
                     0.02f + 1e-5f);
}

// ONNX Runtime's dynamic and QOperator forms chained (DynamicQuantizeLinear, ConvInteger,
// QuantizeLinear, QLinearMatMul with per-column uint8 weights, com.microsoft QGemm, a float16
// constant): the fuzzer's quantized seed, run end to end.
TEST(QuantOps, MixedQuantizedFormats) {
  expect_matches_ort("mixed", mixed_quantized_onnx(),
                     {{"x", {2, 3, 6, 6}, uniform(216, -1, 1, 27)}}, 0.1f);
}

}  // namespace
}  // namespace pitlane::runtime
