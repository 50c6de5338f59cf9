// Graph passes: from the imported (symbolic) graph to the graph a backend compiles.
//
//   instantiate(): concrete batch size, shape inference for every node (InputError naming the
//                  node on anything inconsistent), constant folding (Shape/Gather/Unsqueeze/
//                  Concat chains, Constant inputs, any node whose inputs are all constant).
//   optimize():    MatMul(+Add) -> Gemm, Gemm canonical form (B as [N,K], alpha/beta folded),
//                  BatchNormalization folded into the neighbouring Conv (or kept as Affine),
//                  Transpose before a flatten folded into the next Gemm's weights, reshapes as
//                  views, activations fused into their producer, dead nodes removed.
//
//   Graph g = instantiate(model_graph, /*batch=*/64);
//   optimize(g);
#pragma once

#include <cstdint>
#include <vector>

#include "pitlane/runtime/graph.h"

namespace pitlane::runtime {

Graph instantiate(const Graph& symbolic, int64_t batch);
// QDQ patterns to integer operators (quantized.cpp), run first by instantiate():
//   DequantizeLinear(x_q), DequantizeLinear(w_q const) [, bias] -> Conv [-> Relu] -> QuantizeLinear
//     => QLinearConv (int32 bias, fused Relu)
//   the same around Gemm / MatMul (B constant) => QGemm (quantized output, or float output when
//     no QuantizeLinear follows)
// Weights must be constant, activations per tensor; anything else keeps its float form.
void fuse_quantized(Graph& g);
void optimize(Graph& g);

// Evaluates a node whose inputs are all constant, making its outputs constant (fold.cpp).
void fold_node(Graph& g, const Node& n);

// How many node inputs read each value (graph outputs count once more).
std::vector<int> use_counts(const Graph& g);
// Ops that only reinterpret their input's data (after optimize(): Reshape with one input).
bool is_view(Op op);

}  // namespace pitlane::runtime
