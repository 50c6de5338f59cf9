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

// Who produces and who reads each value, built once per pass and kept current as the pass edits
// nodes, so that every pass is linear in the size of the graph (a graph of a million nodes loads
// in seconds, not hours). An edit of node i is bracketed: detach(i), change g.nodes[i], attach(i).
// Readers are kept as a count and a sum of node indices: with one reader, the sum is that node.
class Links {
 public:
  explicit Links(const Graph& g);

  int producer(int value) const { return producer_[value]; }
  // Node inputs reading `value`, plus one per appearance among the graph outputs.
  int uses(int value) const { return readers_[value] + graph_outputs_[value]; }
  // The node that is `value`'s only use (a graph output is a use), or -1.
  int sole_reader(int value) const {
    return readers_[value] == 1 && graph_outputs_[value] == 0 ? static_cast<int>(sum_[value]) : -1;
  }

  // Takes node i's edges out / puts them in, as g.nodes[i] holds them now.
  void detach(const Graph& g, int node);
  void attach(const Graph& g, int node);
  // After values were appended to g.values.
  void grow(const Graph& g);

 private:
  std::vector<int> producer_;
  std::vector<int> readers_;
  std::vector<int64_t> sum_;
  std::vector<int> graph_outputs_;
};
// Ops that only reinterpret their input's data (after optimize(): Reshape with one input).
bool is_view(Op op);

}  // namespace pitlane::runtime
