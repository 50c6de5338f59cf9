#include "pitlane/onnx/operators.h"

#include <onnx/onnx_pb.h>

#include "pitlane/core/error.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/shape_rules.h"

namespace pitlane::onnx {
namespace {

constexpr int kMaxListAttribute = 64;

// Attribute readers: each sets what its operators read, with their ONNX defaults.
void no_attributes(const AttributeReader&, Attributes&) {}

void conv_attributes(const AttributeReader& r, Attributes& a) {
  a.kernel_shape = r.get_ints("kernel_shape", {});
  a.strides = r.get_ints("strides", {1, 1});
  a.dilations = r.get_ints("dilations", {1, 1});
  a.pads = r.get_ints("pads", {0, 0, 0, 0});
  a.group = r.get_int("group", 1);
  const std::string pad = r.get_string("auto_pad", "NOTSET");
  if (pad == "NOTSET")
    a.auto_pad = AutoPad::notset;
  else if (pad == "VALID")
    a.auto_pad = AutoPad::valid;
  else if (pad == "SAME_UPPER")
    a.auto_pad = AutoPad::same_upper;
  else if (pad == "SAME_LOWER")
    a.auto_pad = AutoPad::same_lower;
  else
    r.fail("unsupported auto_pad '" + printable(pad) +
           "'; use NOTSET, VALID, SAME_UPPER or SAME_LOWER");
}

void gemm_attributes(const AttributeReader& r, Attributes& a) {
  a.alpha = r.get_float("alpha", 1.0f);
  a.beta = r.get_float("beta", 1.0f);
  a.trans_a = r.get_int("transA", 0) != 0;
  a.trans_b = r.get_int("transB", 0) != 0;
}

void leaky_relu_attributes(const AttributeReader& r, Attributes& a) {
  a.alpha = r.get_float("alpha", 0.01f);
}
void elu_attributes(const AttributeReader& r, Attributes& a) {
  a.alpha = r.get_float("alpha", 1.0f);
}
void batchnorm_attributes(const AttributeReader& r, Attributes& a) {
  a.epsilon = r.get_float("epsilon", 1e-5f);
  a.training_mode = r.get_int("training_mode", 0) != 0;
}
void flatten_attributes(const AttributeReader& r, Attributes& a) {
  a.axis = r.get_int("axis", 1);
}
void axis0_attributes(const AttributeReader& r, Attributes& a) {  // Concat, Gather
  a.axis = r.get_int("axis", 0);
}
void reshape_attributes(const AttributeReader& r, Attributes& a) {
  a.allowzero = r.get_int("allowzero", 0) != 0;
}
void transpose_attributes(const AttributeReader& r, Attributes& a) {
  a.perm = r.get_ints("perm", {});
}
void axes_attributes(const AttributeReader& r, Attributes& a) {  // Squeeze, Unsqueeze
  a.axes = r.get_ints("axes", {});
}
void cast_attributes(const AttributeReader& r, Attributes& a) {
  a.to = r.get_int("to", 1);
}
void shape_attributes(const AttributeReader& r, Attributes& a) {
  a.start = r.get_int("start", 0);
  a.end = r.get_int("end", a.end);
}
void quantize_attributes(const AttributeReader& r, Attributes& a) {
  a.axis = r.get_int("axis", 1);
  a.block_size = r.get_int("block_size", 0);
  a.output_dtype = r.get_int("output_dtype", 0);
}
void qgemm_attributes(const AttributeReader& r, Attributes& a) {
  gemm_attributes(r, a);
}

namespace rule = shape_rules;

// Indexed by Op: kOps[static_cast<int>(op)].op == op (checked in spec_of).
constexpr OpSpec kOps[] = {
    {"Conv", "", Op::Conv, false, 2, 3, 1, conv_attributes, rule::conv},
    {"Gemm", "", Op::Gemm, false, 2, 3, 1, gemm_attributes, rule::gemm},
    {"MatMul", "", Op::MatMul, false, 2, 2, 1, no_attributes, rule::matmul},
    {"Add", "", Op::Add, false, 2, 2, 1, no_attributes, rule::binary},
    {"Sub", "", Op::Sub, false, 2, 2, 1, no_attributes, rule::binary},
    {"Mul", "", Op::Mul, false, 2, 2, 1, no_attributes, rule::binary},
    {"Div", "", Op::Div, false, 2, 2, 1, no_attributes, rule::binary},
    {"Relu", "", Op::Relu, false, 1, 1, 1, no_attributes, rule::activation},
    {"LeakyRelu", "", Op::LeakyRelu, false, 1, 1, 1, leaky_relu_attributes, rule::activation},
    {"Elu", "", Op::Elu, false, 1, 1, 1, elu_attributes, rule::activation},
    {"Sigmoid", "", Op::Sigmoid, false, 1, 1, 1, no_attributes, rule::activation},
    {"Tanh", "", Op::Tanh, false, 1, 1, 1, no_attributes, rule::activation},
    {"BatchNormalization", "", Op::BatchNormalization, false, 5, 5, 3, batchnorm_attributes,
     rule::batchnorm},
    {"Flatten", "", Op::Flatten, false, 1, 1, 1, flatten_attributes, rule::flatten},
    {"Reshape", "", Op::Reshape, false, 2, 2, 1, reshape_attributes, rule::reshape},
    {"Transpose", "", Op::Transpose, false, 1, 1, 1, transpose_attributes, rule::transpose},
    {"Concat", "", Op::Concat, false, 1, 64, 1, axis0_attributes, rule::concat},
    {"Identity", "", Op::Identity, false, 1, 1, 1, no_attributes, rule::identity},
    {"Dropout", "", Op::Dropout, false, 1, 3, 2, no_attributes, rule::dropout},
    {"Cast", "", Op::Cast, false, 1, 1, 1, cast_attributes, rule::cast},
    {"Shape", "", Op::Shape, false, 1, 1, 1, shape_attributes, rule::shape},
    {"Gather", "", Op::Gather, false, 2, 2, 1, axis0_attributes, rule::gather},
    {"Unsqueeze", "", Op::Unsqueeze, false, 1, 2, 1, axes_attributes, rule::unsqueeze},
    {"Squeeze", "", Op::Squeeze, false, 1, 2, 1, axes_attributes, rule::squeeze},
    {"Affine", "", Op::Affine, true, 3, 3, 1, no_attributes, rule::affine},
    {"QuantizeLinear", "", Op::QuantizeLinear, false, 2, 3, 1, quantize_attributes, rule::quantize},
    {"DequantizeLinear", "", Op::DequantizeLinear, false, 2, 3, 1, quantize_attributes,
     rule::dequantize},
    {"QLinearConv", "", Op::QLinearConv, false, 8, 9, 1, conv_attributes, rule::quantized},
    {"QLinearMatMul", "", Op::QLinearMatMul, false, 8, 8, 1, no_attributes, rule::quantized},
    {"QGemm", "com.microsoft", Op::QGemm, false, 6, 9, 1, qgemm_attributes, rule::quantized},
    {"ConvInteger", "", Op::ConvInteger, false, 2, 4, 1, conv_attributes, rule::quantized},
    {"MatMulInteger", "", Op::MatMulInteger, false, 2, 4, 1, no_attributes, rule::quantized},
    {"DynamicQuantizeScale", "", Op::DynamicQuantizeScale, true, 1, 1, 1, no_attributes,
     rule::quantized},
    {"DynamicQuantizeZeroPoint", "", Op::DynamicQuantizeZeroPoint, true, 1, 1, 1, no_attributes,
     rule::quantized},
};

constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < std::size(kOps); ++i)
    if (static_cast<size_t>(kOps[i].op) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kOps must list the operators in the order of enum Op");

}  // namespace

const ::onnx::AttributeProto* AttributeReader::find(const char* name, int type,
                                                    const char* kind) const {
  for (const auto& a : node_.attribute()) {
    if (a.name() != name) continue;
    if (a.type() != type) fail(std::string("attribute '") + name + "' must be " + kind);
    return &a;
  }
  return nullptr;
}

void AttributeReader::fail(const std::string& what) const {
  throw InputError(where_ + ": " + what);
}

int64_t AttributeReader::get_int(const char* name, int64_t fallback) const {
  const auto* a = find(name, ::onnx::AttributeProto::INT, "an int");
  return a ? a->i() : fallback;
}

float AttributeReader::get_float(const char* name, float fallback) const {
  const auto* a = find(name, ::onnx::AttributeProto::FLOAT, "a float");
  return a ? a->f() : fallback;
}

std::string AttributeReader::get_string(const char* name, const std::string& fallback) const {
  const auto* a = find(name, ::onnx::AttributeProto::STRING, "a string");
  return a ? a->s() : fallback;
}

std::vector<int64_t> AttributeReader::get_ints(const char* name,
                                               std::vector<int64_t> fallback) const {
  const auto* a = find(name, ::onnx::AttributeProto::INTS, "a list of ints");
  if (!a) return fallback;
  if (a->ints_size() > kMaxListAttribute) fail(std::string("attribute '") + name + "' is too long");
  return {a->ints().begin(), a->ints().end()};
}

const OpSpec* find_operator(std::string_view op_type, std::string_view domain) {
  if (domain == "ai.onnx") domain = "";
  for (const auto& spec : kOps)
    if (!spec.internal && op_type == spec.name && domain == spec.domain) return &spec;
  return nullptr;
}

const OpSpec& spec_of(Op op) {
  return kOps[static_cast<size_t>(op)];
}

Attributes node_attributes(const ::onnx::NodeProto& node, const std::string& where) {
  const OpSpec* spec = find_operator(node.op_type(), node.domain());
  if (!spec)
    throw InputError(where + ": operator '" + printable(node.op_type()) + "' is not supported");
  Attributes attrs;
  spec->read_attributes(AttributeReader(node, where), attrs);
  return attrs;
}

std::string supported_operators() {
  std::string s;
  for (const auto& spec : kOps)
    if (!spec.internal) s += (s.empty() ? "" : ", ") + std::string(spec.name);
  return s + ", Constant, DynamicQuantizeLinear";
}

}  // namespace pitlane::onnx
