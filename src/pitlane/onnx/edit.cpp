#include "pitlane/onnx/edit.h"

#include <algorithm>
#include <set>

#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"

namespace pitlane::onnx {

const ::onnx::TensorProto* find_initializer(const ::onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

void remove_initializer(::onnx::GraphProto& g, const std::string& name) {
  auto* inits = g.mutable_initializer();
  for (int i = 0; i < inits->size(); ++i)
    if (inits->Get(i).name() == name) {
      inits->DeleteSubrange(i, 1);
      break;
    }
  auto* inputs = g.mutable_input();  // old exporters list initializers as inputs too
  for (int i = 0; i < inputs->size(); ++i)
    if (inputs->Get(i).name() == name) {
      inputs->DeleteSubrange(i, 1);
      break;
    }
}

int64_t element_count(const ::onnx::TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  return n;
}

std::vector<float> tensor_floats(const ::onnx::TensorProto& t) {
  return values_as_floats(decode_tensor(t, "tensor '" + printable(t.name()) + "'"));
}

void add_initializer(::onnx::GraphProto& g, ::onnx::TensorProto t) {
  *g.add_initializer() = std::move(t);
}

::onnx::NodeProto make_node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs, const std::string& name) {
  ::onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (const auto& i : inputs) n.add_input(i);
  for (const auto& o : outputs) n.add_output(o);
  return n;
}

namespace {
// The attribute `name` of `n`, emptied, with `type`; added when absent.
::onnx::AttributeProto& reset_attribute(::onnx::NodeProto& n, const std::string& name,
                                        ::onnx::AttributeProto::AttributeType type) {
  ::onnx::AttributeProto* found = nullptr;
  for (auto& a : *n.mutable_attribute())
    if (a.name() == name) found = &a;
  if (!found) found = n.add_attribute();
  found->Clear();
  found->set_name(name);
  found->set_type(type);
  return *found;
}
}  // namespace

void set_attr_int(::onnx::NodeProto& n, const std::string& name, int64_t value) {
  reset_attribute(n, name, ::onnx::AttributeProto::INT).set_i(value);
}

void set_attr_float(::onnx::NodeProto& n, const std::string& name, float value) {
  reset_attribute(n, name, ::onnx::AttributeProto::FLOAT).set_f(value);
}

void set_attr_ints(::onnx::NodeProto& n, const std::string& name,
                   const std::vector<int64_t>& values) {
  auto& a = reset_attribute(n, name, ::onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
}

void insert_node(::onnx::GraphProto& g, int index, ::onnx::NodeProto n) {
  auto* nodes = g.mutable_node();
  *nodes->Add() = std::move(n);
  for (int i = nodes->size() - 1; i > index; --i) nodes->SwapElements(i, i - 1);
}

void redirect_readers(::onnx::GraphProto& g, const std::string& from, const std::string& to,
                      const std::vector<const ::onnx::NodeProto*>& except) {
  for (auto& n : *g.mutable_node()) {
    if (std::find(except.begin(), except.end(), &n) != except.end()) continue;
    for (auto& in : *n.mutable_input())
      if (in == from) in = to;
  }
}

int producer_of(const ::onnx::GraphProto& g, const std::string& value) {
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& o : g.node(i).output())
      if (o == value) return i;
  return -1;
}

std::vector<int> readers_of(const ::onnx::GraphProto& g, const std::string& value) {
  std::vector<int> r;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& in : g.node(i).input())
      if (in == value) {
        r.push_back(i);
        break;
      }
  return r;
}

bool is_graph_output(const ::onnx::GraphProto& g, const std::string& value) {
  for (const auto& o : g.output())
    if (o.name() == value) return true;
  return false;
}

std::string unique_name(const ::onnx::GraphProto& g, const std::string& base) {
  std::set<std::string> used;
  for (const auto& t : g.initializer()) used.insert(t.name());
  for (const auto& i : g.input()) used.insert(i.name());
  for (const auto& n : g.node()) {
    used.insert(n.name());
    for (const auto& o : n.output()) used.insert(o);
  }
  if (!used.count(base)) return base;
  for (int i = 1;; ++i)
    if (!used.count(base + "_" + std::to_string(i))) return base + "_" + std::to_string(i);
}

}  // namespace pitlane::onnx
