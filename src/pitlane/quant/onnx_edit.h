// Small, explicit edits of an ONNX ModelProto: the vocabulary the quantization recipes are written
// in. Tensors are read into float vectors and written from typed data; nodes are added at a
// chosen position so the graph stays topologically sorted; readers of a value can be redirected.
//
//   onnx::ModelProto m = load_model("pilotnet.onnx");
//   const onnx::TensorProto* w = find_initializer(m.graph(), "conv1.weight");
//   std::vector<float> data = tensor_floats(*w);
//   add_initializer(*m.mutable_graph(), int8_tensor("conv1.weight_q", dims, q));
//   insert_node(*m.mutable_graph(), 3, make_node("DequantizeLinear", {...}, {...}));
//   save_model(m, "out.onnx");   // checker first, then temp file + rename
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pitlane::quant {

// Parses a model file; InputError naming the file if it is not ONNX.
onnx::ModelProto load_model(const std::filesystem::path& path);
// Runs onnx::checker::check_model (full check) and writes atomically. InputError when the checker
// rejects the model (a bug in a recipe: nothing is written).
void save_model(const onnx::ModelProto& model, const std::filesystem::path& path);
// The checker alone; throws InputError with its message.
void check_model(const onnx::ModelProto& model, const std::string& source);

const onnx::TensorProto* find_initializer(const onnx::GraphProto& g, const std::string& name);
void remove_initializer(onnx::GraphProto& g, const std::string& name);
// Values of a FLOAT/DOUBLE/INT32/INT64/(U)INT8 tensor as floats. InputError for other types.
std::vector<float> tensor_floats(const onnx::TensorProto& t);
int64_t element_count(const onnx::TensorProto& t);

onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& data);
// data_type: UINT8, INT8 or INT32 (onnx::TensorProto::DataType), values already in range.
onnx::TensorProto int_tensor(const std::string& name, const std::vector<int64_t>& dims,
                             int data_type, const std::vector<int32_t>& data);
// FLOAT16 (IEEE half, round to nearest even) or BFLOAT16 (round to nearest even) from floats.
onnx::TensorProto half_tensor(const std::string& name, const std::vector<int64_t>& dims,
                              const std::vector<float>& data, bool bfloat16);
void add_initializer(onnx::GraphProto& g, onnx::TensorProto t);

onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name);
void set_attr_int(onnx::NodeProto& n, const std::string& name, int64_t value);
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t fallback);
float attr_float(const onnx::NodeProto& n, const std::string& name, float fallback);
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name);
// Inserts `n` before position `index` of the node list.
void insert_node(onnx::GraphProto& g, int index, onnx::NodeProto n);
// Every node input reading `from` (except in nodes listed in `except`) now reads `to`.
void redirect_readers(onnx::GraphProto& g, const std::string& from, const std::string& to,
                      const std::vector<const onnx::NodeProto*>& except = {});
// Index of the node producing `value`, or -1 (graph input or initializer).
int producer_of(const onnx::GraphProto& g, const std::string& value);
// Indices of the nodes reading `value`.
std::vector<int> readers_of(const onnx::GraphProto& g, const std::string& value);
bool is_graph_output(const onnx::GraphProto& g, const std::string& value);
// A name not yet used by any value, node or initializer: `base`, `base_1`, ...
std::string unique_name(const onnx::GraphProto& g, const std::string& base);

std::map<std::string, std::string> metadata(const onnx::ModelProto& m);
void set_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value);
// The default-domain opset the model imports (0 if none).
int64_t opset(const onnx::ModelProto& m);

// IEEE half and bfloat16 conversions (round to nearest even).
uint16_t float_to_half(float f);
uint16_t float_to_bf16(float f);

}  // namespace pitlane::quant
