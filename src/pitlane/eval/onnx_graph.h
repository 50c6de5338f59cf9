// An ONNX model read into plain data: inputs, outputs, nodes, initializers and metadata_props.
// No libtorch and no execution here; executors (the libtorch one today, pitlane's runtime later)
// consume it. Sizes read from the file are bounded; malformed files raise InputError naming the
// file.
//
//   OnnxGraph g = read_onnx("model.onnx");
//   data::ModelMetadata meta = data::metadata_from_props(g.metadata, "model.onnx");
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pitlane::eval {

// A constant tensor. Floating types are stored in `floats`, integer types in `ints`.
struct OnnxTensor {
  std::string name;
  int data_type = 0;          // onnx::TensorProto::DataType (1 float, 7 int64, ...)
  std::vector<int64_t> dims;  // shape
  std::vector<float> floats;  // values of FLOAT/DOUBLE/FLOAT16 tensors (converted to float)
  std::vector<int64_t> ints;  // values of INT64/INT32/INT8/UINT8/BOOL tensors
  bool is_float() const { return data_type == 1 || data_type == 10 || data_type == 11; }
};

struct OnnxAttribute {
  std::string name;
  int type = 0;  // onnx::AttributeProto::AttributeType
  int64_t i = 0;
  float f = 0.0f;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<OnnxTensor> tensors;  // the TENSOR attribute (Constant), at most one
};

struct OnnxNode {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;  // "" marks an omitted optional input
  std::vector<OnnxAttribute> attributes;

  const OnnxAttribute* attribute(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> fallback) const;
  std::string attr_string(const std::string& name, std::string fallback) const;
};

// A graph input or output; dims of -1 are dynamic (dim_param or unknown).
struct OnnxValue {
  std::string name;
  int elem_type = 0;
  std::vector<int64_t> dims;
};

struct OnnxGraph {
  std::filesystem::path source;   // the file it came from
  int64_t opset = 0;              // default-domain opset
  std::vector<OnnxValue> inputs;  // graph inputs that are not initializers
  std::vector<OnnxValue> outputs;
  std::vector<OnnxNode> nodes;  // in file order (ONNX requires topological order)
  std::vector<OnnxTensor> initializers;
  std::map<std::string, std::string> metadata;  // metadata_props
};

OnnxGraph read_onnx(const std::filesystem::path& path);

}  // namespace pitlane::eval
