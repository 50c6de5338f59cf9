// ONNX file -> graph IR. Bounded and validated: every size read from the file is checked before
// use, unsupported operators, attributes and data types are one-line InputErrors naming the file,
// the node and the fix; cyclic graphs and dangling references are rejected.
//
//   Graph g = import_onnx(read_file("pilotnet.onnx"), "pilotnet.onnx");
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pitlane/runtime/graph.h"

namespace pitlane::runtime {

// Largest ONNX file accepted (all weights must live inside the file).
inline constexpr size_t kMaxModelBytes = size_t{1} << 30;

Graph import_onnx(std::string_view bytes, const std::string& source);

}  // namespace pitlane::runtime
