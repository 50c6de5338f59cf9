// The operator table: one entry per operator pitlane knows, read by the importer (name, domain,
// input and output counts, how its attributes are parsed), by shape inference (its shape rule)
// and by error messages (the supported list). A new operator is one entry here plus its rule
// and its kernels.
//
//   const OpSpec* spec = find_operator("Conv", "");
//   spec->read_attributes(reader, node.attrs);   // typed, with Conv's defaults
//   spec->infer(graph, node);                    // output shapes and types
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pitlane/onnx/graph.h"

namespace onnx {
class AttributeProto;
class NodeProto;
}  // namespace onnx

namespace pitlane::onnx {

// Typed access to one NodeProto's attributes. A present attribute of the wrong kind, or a list
// longer than 64 values, is an InputError "<where>: attribute 'x' ...".
class AttributeReader {
 public:
  AttributeReader(const ::onnx::NodeProto& node, std::string where)
      : node_(node), where_(std::move(where)) {}
  int64_t get_int(const char* name, int64_t fallback) const;
  float get_float(const char* name, float fallback) const;
  std::string get_string(const char* name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const char* name, std::vector<int64_t> fallback) const;
  [[noreturn]] void fail(const std::string& what) const;

 private:
  const ::onnx::AttributeProto* find(const char* name, int type, const char* kind) const;
  const ::onnx::NodeProto& node_;
  std::string where_;
};

struct OpSpec {
  const char* name;    // the ONNX op_type (internal operators: a name for messages only)
  const char* domain;  // "" = the default ONNX domain
  Op op;
  bool internal;  // made by the importer or the passes, never read from a file
  int min_inputs, max_inputs;
  int max_outputs;
  // Fills the attributes this operator reads, with its ONNX defaults.
  void (*read_attributes)(const AttributeReader& reader, Attributes& attrs);
  // Output shapes and element types from the inputs' (InputError naming the node if they do not
  // fit); may rewrite attributes into explicit form (Conv auto_pad -> pads).
  void (*infer)(Graph& g, Node& n);
};

// The entry of a file operator (`domain` "" or "ai.onnx" for the default domain), or nullptr.
const OpSpec* find_operator(std::string_view op_type, std::string_view domain);
// The entry of any operator.
const OpSpec& spec_of(Op op);
// The typed attributes of a file node, read by its operator's reader with its defaults (what the
// importer stores in Node::attrs). InputError "<where>: ..." for an unknown operator or a
// malformed attribute.
Attributes node_attributes(const ::onnx::NodeProto& node, const std::string& where);
// "Conv, Gemm, ..." - every operator a file may contain.
std::string supported_operators();

}  // namespace pitlane::onnx
