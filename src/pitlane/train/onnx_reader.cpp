#include "pitlane/train/onnx_reader.h"

#include <map>
#include <string>
#include <vector>

#include "pitlane/core/error.h"
#include "pitlane/onnx/import.h"

namespace pitlane::train {
namespace {

// Copies initializer `name` into `dst`, whose size is the shape the architecture expects.
void take(const std::map<std::string, const onnx::Value*>& tensors,
          const std::filesystem::path& path, const std::string& name, std::vector<float>& dst) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    throw InputError(path.string() + ": initializer '" + name +
                     "' is missing; fine-tuning needs a PilotNet written by pitlane train");
  }
  const onnx::Value& t = *it->second;
  if (t.dtype != onnx::DType::f32 || t.f32.size() != dst.size()) {
    throw InputError(path.string() + ": initializer '" + name + "' has " +
                     std::to_string(t.f32.size()) + " float values, the architecture needs " +
                     std::to_string(dst.size()) + "; fine-tuning needs an unmodified fp32 model");
  }
  dst = t.f32;
}

}  // namespace

PilotNetWeights read_pilotnet_onnx(const std::filesystem::path& path, data::ModelMetadata* meta) {
  const onnx::Graph g = onnx::read_graph(path);
  const data::ModelMetadata m = data::metadata_from_props(g.metadata, path.string());
  if (m.arch.empty()) {
    throw InputError(path.string() +
                     ": no pitlane.arch in the metadata; fine-tuning needs a model written by "
                     "pitlane train");
  }
  PilotNetWeights net =
      pilotnet_skeleton(parse_arch(m.arch), m.preprocess.height, m.preprocess.width);
  std::map<std::string, const onnx::Value*> tensors;
  for (const auto& v : g.values)
    if (v.is_const) tensors[v.name] = &v;
  take(tensors, path, "bn.scale", net.input_norm.scale);
  take(tensors, path, "bn.bias", net.input_norm.bias);
  take(tensors, path, "bn.mean", net.input_norm.mean);
  take(tensors, path, "bn.var", net.input_norm.var);
  for (const auto& node : g.nodes) {
    if (node.name == "input_norm") net.input_norm.epsilon = node.attrs.epsilon;
  }
  for (size_t i = 0; i < net.convs.size(); ++i) {
    const std::string p = "conv" + std::to_string(i + 1);
    take(tensors, path, p + ".weight", net.convs[i].weight);
    take(tensors, path, p + ".bias", net.convs[i].bias);
  }
  for (size_t i = 0; i < net.dense.size(); ++i) {
    const std::string p = "dense" + std::to_string(i + 1);
    take(tensors, path, p + ".weight", net.dense[i].weight);
    take(tensors, path, p + ".bias", net.dense[i].bias);
  }
  if (meta) *meta = m;
  return net;
}

}  // namespace pitlane::train
