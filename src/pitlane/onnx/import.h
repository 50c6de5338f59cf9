// ONNX file -> graph IR. Bounded and validated: the file through model_file.h, tensors through
// the one decoder (tensor.h), nodes through the operator table (operators.h) with their
// attributes parsed once into typed form. Unsupported operators, attributes and data types are
// one-line InputErrors naming the file, the node and the fix; cyclic graphs and dangling
// references are rejected; nodes come out topologically sorted.
//
//   Graph g = read_graph("pilotnet.onnx");
//   Graph h = import_model(bytes, "upload.onnx");
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "pitlane/onnx/graph.h"

namespace onnx {
class ModelProto;
}

namespace pitlane::onnx {

// Opsets the importer accepts (the default domain).
inline constexpr int64_t kMinOpset = 11;
inline constexpr int64_t kMaxOpset = 21;

Graph import_model(const ::onnx::ModelProto& model, const std::string& source);
Graph import_model(std::string_view bytes, const std::string& source);
Graph read_graph(const std::filesystem::path& path);

}  // namespace pitlane::onnx
