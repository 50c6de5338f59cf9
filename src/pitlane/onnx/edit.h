// Small, explicit edits of an ONNX ModelProto: the vocabulary the quantization recipes are written
// in. Nodes are added at a chosen position so the graph stays topologically sorted; readers of a
// value can be redirected. Files go through model_file.h, tensors through tensor.h.
//
//   ::onnx::ModelProto m = read_model("pilotnet.onnx");
//   const ::onnx::TensorProto* w = find_initializer(m.graph(), "conv1.weight");
//   std::vector<float> data = tensor_floats(*w);
//   add_initializer(*m.mutable_graph(), int_tensor("conv1.weight_q", dims, INT8, q));
//   insert_node(*m.mutable_graph(), 3, make_node("DequantizeLinear", {...}, {...}, "dq"));
//   write_model(m, "out.onnx");   // checker first, then temp file + rename
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pitlane::onnx {

const ::onnx::TensorProto* find_initializer(const ::onnx::GraphProto& g, const std::string& name);
void remove_initializer(::onnx::GraphProto& g, const std::string& name);
// Values of a tensor as floats (tensor.h's decoder; int64 converted). InputError for types the
// decoder does not read.
std::vector<float> tensor_floats(const ::onnx::TensorProto& t);
int64_t element_count(const ::onnx::TensorProto& t);
void add_initializer(::onnx::GraphProto& g, ::onnx::TensorProto t);

::onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs, const std::string& name);
// Attribute writers (replace a present attribute of that name). Read typed attributes with
// operators.h's node_attributes.
void set_attr_int(::onnx::NodeProto& n, const std::string& name, int64_t value);
void set_attr_float(::onnx::NodeProto& n, const std::string& name, float value);
void set_attr_ints(::onnx::NodeProto& n, const std::string& name,
                   const std::vector<int64_t>& values);
// Inserts `n` before position `index` of the node list.
void insert_node(::onnx::GraphProto& g, int index, ::onnx::NodeProto n);
// Every node input reading `from` (except in nodes listed in `except`) now reads `to`.
void redirect_readers(::onnx::GraphProto& g, const std::string& from, const std::string& to,
                      const std::vector<const ::onnx::NodeProto*>& except = {});
// Index of the node producing `value`, or -1 (graph input or initializer).
int producer_of(const ::onnx::GraphProto& g, const std::string& value);
// Indices of the nodes reading `value`.
std::vector<int> readers_of(const ::onnx::GraphProto& g, const std::string& value);
bool is_graph_output(const ::onnx::GraphProto& g, const std::string& value);
// A name not yet used by any value, node or initializer: `base`, `base_1`, ...
std::string unique_name(const ::onnx::GraphProto& g, const std::string& base);

}  // namespace pitlane::onnx
