// Shape inference: the output shapes and element types of one node from its inputs', by the
// operator table's shape rule, with every size checked before use (InputError naming the node).
// Rules may rewrite attributes into explicit form: Conv auto_pad into pads, negative axes into
// non-negative ones, Transpose's default perm, Shape's start and end.
//
//   for (Node& n : g.nodes) infer_node(g, n);
#pragma once

#include "pitlane/onnx/graph.h"

namespace pitlane::onnx {

// Output tensors larger than this many elements are refused (1 GiB of floats).
inline constexpr int64_t kMaxInferredElements = int64_t{1} << 28;

void infer_node(Graph& g, Node& n);

}  // namespace pitlane::onnx
