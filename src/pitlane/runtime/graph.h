// The runtime compiles the ONNX layer's graph IR (pitlane/onnx/graph.h: values, nodes, typed
// attributes). This header brings those names into pitlane::runtime, where the passes and the
// backends use them unqualified, and holds the runtime's own graph-level option.
#pragma once

#include <cstdint>

#include "pitlane/onnx/graph.h"

namespace pitlane::runtime {

using onnx::Activation;
using onnx::Attributes;
using onnx::DType;
using onnx::dtype_name;
using onnx::element_count;
using onnx::FusedActivation;
using onnx::Graph;
using onnx::is_quantized;
using onnx::Node;
using onnx::Op;
using onnx::op_name;
using onnx::Value;

// Whether the oneDNN backend runs constant Gemm weights with many exact zeros (pruned models) on
// the sparse kernel (kernels/sparse_gemm/f32.h): automatic = where that is expected to be
// faster than the dense primitive, never = always dense, always = every canonical fp32 Gemm
// with a constant weight (tests).
enum class SparseGemmMode : uint8_t { automatic, never, always };

}  // namespace pitlane::runtime
