#include "pitlane/train/onnx_writer.h"

#include <onnx/onnx_pb.h>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::train {
namespace {

void add_initializer(onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims,
                     const std::vector<float>& values) {
  onnx::TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(values.data(), values.size() * sizeof(float));
}

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, const std::string& name,
                          std::initializer_list<std::string> inputs, const std::string& output) {
  onnx::NodeProto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output);
  return n;
}

void attr_ints(onnx::NodeProto* n, const std::string& name, std::initializer_list<int64_t> v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void attr_int(onnx::NodeProto* n, const std::string& name, int64_t v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void attr_float(onnx::NodeProto* n, const std::string& name, float v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void set_value_info(onnx::ValueInfoProto* vi, const std::string& name,
                    std::initializer_list<int64_t> dims) {
  vi->set_name(name);
  auto* tensor = vi->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

std::string pilotnet_onnx_bytes(const PilotNetWeights& net, const data::ModelMetadata& meta) {
  onnx::ModelProto model;
  model.set_ir_version(7);  // the IR version of opset 13
  model.set_producer_name("pitlane");
  model.set_producer_version("0.1.0");
  model.set_model_version(1);
  model.set_doc_string("PilotNet (" + arch_name(net.arch) +
                       "): camera image -> normalized (v, w); see metadata_props");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [key, value] : data::to_props(meta)) {
    auto* p = model.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }

  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("pilotnet");
  set_value_info(g.add_input(), "image", {3, net.input_height, net.input_width});
  set_value_info(g.add_output(), "vw", {2});

  const auto& bn = net.input_norm;
  add_initializer(g, "bn.scale", {bn.channels}, bn.scale);
  add_initializer(g, "bn.bias", {bn.channels}, bn.bias);
  add_initializer(g, "bn.mean", {bn.channels}, bn.mean);
  add_initializer(g, "bn.var", {bn.channels}, bn.var);
  auto* bn_node = add_node(g, "BatchNormalization", "input_norm",
                           {"image", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, "normalized");
  attr_float(bn_node, "epsilon", bn.epsilon);

  std::string x = "normalized";
  for (size_t i = 0; i < net.convs.size(); ++i) {
    const ConvLayer& c = net.convs[i];
    const std::string p = "conv" + std::to_string(i + 1);
    add_initializer(g, p + ".weight", {c.out_channels, c.in_channels, c.kernel, c.kernel},
                    c.weight);
    add_initializer(g, p + ".bias", {c.out_channels}, c.bias);
    auto* conv = add_node(g, "Conv", p, {x, p + ".weight", p + ".bias"}, p + ".out");
    attr_ints(conv, "kernel_shape", {c.kernel, c.kernel});
    attr_ints(conv, "strides", {c.stride, c.stride});
    // ONNX pads: [top, left, bottom, right].
    attr_ints(conv, "pads", {c.pad_top, c.pad_left, c.pad_bottom, c.pad_right});
    attr_ints(conv, "dilations", {1, 1});
    attr_int(conv, "group", 1);
    add_node(g, "Relu", p + ".relu", {p + ".out"}, p + ".act");
    x = p + ".act";
  }
  attr_int(add_node(g, "Flatten", "flatten", {x}, "flat"), "axis", 1);
  x = "flat";
  for (size_t i = 0; i < net.dense.size(); ++i) {
    const DenseLayer& d = net.dense[i];
    const bool last = i + 1 == net.dense.size();
    const std::string p = "dense" + std::to_string(i + 1);
    add_initializer(g, p + ".weight", {d.out_features, d.in_features}, d.weight);
    add_initializer(g, p + ".bias", {d.out_features}, d.bias);
    auto* gemm = add_node(g, "Gemm", p, {x, p + ".weight", p + ".bias"}, last ? "vw" : p + ".out");
    attr_int(gemm, "transB", 1);
    if (!last) {
      add_node(g, "Relu", p + ".relu", {p + ".out"}, p + ".act");
      x = p + ".act";
    }
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw RunError("onnx: serializing the model failed");
  return bytes;
}

void write_pilotnet_onnx(const std::filesystem::path& path, const PilotNetWeights& net,
                         const data::ModelMetadata& meta) {
  write_file_atomic(path, pilotnet_onnx_bytes(net, meta));
}

}  // namespace pitlane::train
