#include "pitlane/onnx/graph.h"

#include "pitlane/onnx/operators.h"

namespace pitlane::onnx {

const char* op_name(Op op) {
  return spec_of(op).name;
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

const Value* Graph::find_value(const std::string& name) const {
  for (const Value& v : values)
    if (v.name == name) return &v;
  return nullptr;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace pitlane::onnx
