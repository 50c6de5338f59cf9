#include "pitlane/train/onnx_writer.h"

#include <onnx/onnx_pb.h>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/onnx/edit.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/onnx/tensor.h"

namespace pitlane::train {
namespace {

void add_weights(::onnx::GraphProto& g, const std::string& name, const std::vector<int64_t>& dims,
                 const std::vector<float>& values) {
  onnx::add_initializer(g, onnx::float_tensor(name, dims, values));
}

::onnx::NodeProto& add_node(::onnx::GraphProto& g, const std::string& op, const std::string& name,
                            const std::vector<std::string>& inputs, const std::string& output) {
  return *g.add_node() = onnx::make_node(op, inputs, {output}, name);
}

void set_value_info(::onnx::ValueInfoProto* vi, const std::string& name,
                    std::initializer_list<int64_t> dims) {
  vi->set_name(name);
  auto* tensor = vi->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(::onnx::TensorProto::FLOAT);
  auto* shape = tensor->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace

std::string pilotnet_onnx_bytes(const PilotNetWeights& net, const data::ModelMetadata& meta) {
  ::onnx::ModelProto model;
  model.set_ir_version(7);  // the IR version of opset 13
  model.set_producer_name("pitlane");
  model.set_producer_version("0.1.0");
  model.set_model_version(1);
  model.set_doc_string("PilotNet (" + arch_name(net.arch) +
                       "): camera image -> normalized (v, w); see metadata_props");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [key, value] : data::to_props(meta)) onnx::set_metadata(model, key, value);

  ::onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("pilotnet");
  set_value_info(g.add_input(), "image", {3, net.input_height, net.input_width});
  set_value_info(g.add_output(), "vw", {2});

  const auto& bn = net.input_norm;
  add_weights(g, "bn.scale", {bn.channels}, bn.scale);
  add_weights(g, "bn.bias", {bn.channels}, bn.bias);
  add_weights(g, "bn.mean", {bn.channels}, bn.mean);
  add_weights(g, "bn.var", {bn.channels}, bn.var);
  auto& bn_node = add_node(g, "BatchNormalization", "input_norm",
                           {"image", "bn.scale", "bn.bias", "bn.mean", "bn.var"}, "normalized");
  onnx::set_attr_float(bn_node, "epsilon", bn.epsilon);

  std::string x = "normalized";
  for (size_t i = 0; i < net.convs.size(); ++i) {
    const ConvLayer& c = net.convs[i];
    const std::string p = "conv" + std::to_string(i + 1);
    add_weights(g, p + ".weight", {c.out_channels, c.in_channels, c.kernel, c.kernel}, c.weight);
    add_weights(g, p + ".bias", {c.out_channels}, c.bias);
    auto& conv = add_node(g, "Conv", p, {x, p + ".weight", p + ".bias"}, p + ".out");
    onnx::set_attr_ints(conv, "kernel_shape", {c.kernel, c.kernel});
    onnx::set_attr_ints(conv, "strides", {c.stride, c.stride});
    // ONNX pads: [top, left, bottom, right].
    onnx::set_attr_ints(conv, "pads", {c.pad_top, c.pad_left, c.pad_bottom, c.pad_right});
    onnx::set_attr_ints(conv, "dilations", {1, 1});
    onnx::set_attr_int(conv, "group", 1);
    add_node(g, "Relu", p + ".relu", {p + ".out"}, p + ".act");
    x = p + ".act";
  }
  onnx::set_attr_int(add_node(g, "Flatten", "flatten", {x}, "flat"), "axis", 1);
  x = "flat";
  for (size_t i = 0; i < net.dense.size(); ++i) {
    const DenseLayer& d = net.dense[i];
    const bool last = i + 1 == net.dense.size();
    const std::string p = "dense" + std::to_string(i + 1);
    add_weights(g, p + ".weight", {d.out_features, d.in_features}, d.weight);
    add_weights(g, p + ".bias", {d.out_features}, d.bias);
    auto& gemm = add_node(g, "Gemm", p, {x, p + ".weight", p + ".bias"}, last ? "vw" : p + ".out");
    onnx::set_attr_int(gemm, "transB", 1);
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
