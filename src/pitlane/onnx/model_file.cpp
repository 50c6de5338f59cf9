#include "pitlane/onnx/model_file.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"

namespace pitlane::onnx {

::onnx::ModelProto parse_model(std::string_view bytes, const std::string& source) {
  if (bytes.size() > kMaxModelBytes)
    throw InputError(source +
                     ": file is larger than 1 GiB; pitlane loads models with all tensors inside "
                     "the file");
  ::onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw InputError(source +
                     ": not a valid ONNX model (protobuf parse failed); the file is truncated or "
                     "not ONNX");
  if (!model.has_graph())
    throw InputError(source + ": the ONNX model has no graph; the file is not a model");
  if (model.graph().node_size() > kMaxNodes)
    throw InputError(source + ": too many nodes (" + std::to_string(model.graph().node_size()) +
                     ", at most " + std::to_string(kMaxNodes) + ")");
  return model;
}

::onnx::ModelProto read_model(const std::filesystem::path& path) {
  return parse_model(read_file(path), path.string());
}

void check_model(const ::onnx::ModelProto& model, const std::string& source) {
  try {
    ::onnx::checker::check_model(model);
    // The full check: strict shape and type inference over a copy (ONNX's full_check).
    ::onnx::ModelProto copy = model;
    ::onnx::shape_inference::InferShapes(copy, ::onnx::OpSchemaRegistry::Instance(),
                                         ::onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw InputError(source + ": the ONNX checker rejects the model: " + what);
  }
}

void write_model(const ::onnx::ModelProto& model, const std::filesystem::path& path) {
  check_model(model, path.string());
  write_file_atomic(path, model.SerializeAsString());
}

std::map<std::string, std::string> metadata(const ::onnx::ModelProto& m) {
  std::map<std::string, std::string> out;
  for (const auto& p : m.metadata_props()) out[p.key()] = p.value();
  return out;
}

void set_metadata(::onnx::ModelProto& m, const std::string& key, const std::string& value) {
  for (auto& p : *m.mutable_metadata_props())
    if (p.key() == key) {
      p.set_value(value);
      return;
    }
  auto* p = m.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

int64_t default_opset(const ::onnx::ModelProto& m) {
  int64_t version = 0;
  for (const auto& op : m.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") version = op.version();
  return version;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 32 && c < 127) ? c : '?';
  return s.size() > 80 ? out + "..." : out;
}

}  // namespace pitlane::onnx
