#include "pitlane/runtime/graph.h"

#include "pitlane/core/error.h"

namespace pitlane::runtime {

const char* op_name(Op op) {
  switch (op) {
    case Op::Conv:
      return "Conv";
    case Op::Gemm:
      return "Gemm";
    case Op::MatMul:
      return "MatMul";
    case Op::Add:
      return "Add";
    case Op::Sub:
      return "Sub";
    case Op::Mul:
      return "Mul";
    case Op::Div:
      return "Div";
    case Op::Relu:
      return "Relu";
    case Op::LeakyRelu:
      return "LeakyRelu";
    case Op::Elu:
      return "Elu";
    case Op::Sigmoid:
      return "Sigmoid";
    case Op::Tanh:
      return "Tanh";
    case Op::BatchNormalization:
      return "BatchNormalization";
    case Op::Flatten:
      return "Flatten";
    case Op::Reshape:
      return "Reshape";
    case Op::Transpose:
      return "Transpose";
    case Op::Concat:
      return "Concat";
    case Op::Identity:
      return "Identity";
    case Op::Dropout:
      return "Dropout";
    case Op::Cast:
      return "Cast";
    case Op::Shape:
      return "Shape";
    case Op::Gather:
      return "Gather";
    case Op::Unsqueeze:
      return "Unsqueeze";
    case Op::Squeeze:
      return "Squeeze";
    case Op::Affine:
      return "Affine";
    case Op::QuantizeLinear:
      return "QuantizeLinear";
    case Op::DequantizeLinear:
      return "DequantizeLinear";
    case Op::QLinearConv:
      return "QLinearConv";
    case Op::QLinearMatMul:
      return "QLinearMatMul";
    case Op::QGemm:
      return "QGemm";
    case Op::ConvInteger:
      return "ConvInteger";
    case Op::MatMulInteger:
      return "MatMulInteger";
    case Op::DynamicQuantizeScale:
      return "DynamicQuantizeScale";
    case Op::DynamicQuantizeZeroPoint:
      return "DynamicQuantizeZeroPoint";
  }
  return "?";
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "float32";
    case DType::i64:
      return "int64";
    case DType::u8:
      return "uint8";
    case DType::i8:
      return "int8";
    case DType::i32:
      return "int32";
  }
  return "?";
}

bool is_quantized(DType t) {
  return t == DType::u8 || t == DType::i8 || t == DType::i32;
}

std::string Graph::where(const Node& n) const {
  return source + ": node '" + n.name + "' (" + op_name(n.op) + ")";
}

namespace {
const Attribute* find_attr(const Graph& g, const Node& n, const std::string& key,
                           Attribute::Kind kind, const char* kind_name) {
  auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return nullptr;
  if (it->second.kind != kind)
    throw InputError(g.where(n) + ": attribute '" + key + "' must be " + kind_name +
                     "; the file is malformed");
  return &it->second;
}
}  // namespace

int64_t Graph::attr_int(const Node& n, const std::string& key, int64_t fallback) const {
  const Attribute* a = find_attr(*this, n, key, Attribute::Kind::i, "an int");
  return a ? a->i : fallback;
}
float Graph::attr_float(const Node& n, const std::string& key, float fallback) const {
  const Attribute* a = find_attr(*this, n, key, Attribute::Kind::f, "a float");
  return a ? a->f : fallback;
}
std::string Graph::attr_string(const Node& n, const std::string& key,
                               const std::string& fallback) const {
  const Attribute* a = find_attr(*this, n, key, Attribute::Kind::s, "a string");
  return a ? a->s : fallback;
}
std::vector<int64_t> Graph::attr_ints(const Node& n, const std::string& key,
                                      std::vector<int64_t> fallback) const {
  const Attribute* a = find_attr(*this, n, key, Attribute::Kind::ints, "a list of ints");
  return a ? a->ints : fallback;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace pitlane::runtime
