// Magnitude pruning of an ONNX model, for the sparse-kernel tests and benchmarks: the weight of
// every Conv, Gemm and MatMul (its second input, a float initializer) gets the given fraction of
// its smallest-magnitude values set to exactly 0.0f, unstructured; the graph is unchanged.
//
//   std::string pruned = prune_weights(pilotnet_onnx(Padding::same, Exporter::pitlane, 17, 1),
//   0.8);
#pragma once

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>
#include <string>
#include <vector>

namespace pitlane::runtime::testing {

// Zeros the round(fraction * size) smallest |w| (ties broken by position).
inline void prune_smallest(std::vector<float>& w, double fraction) {
  const auto count = static_cast<size_t>(std::llround(fraction * static_cast<double>(w.size())));
  std::vector<size_t> order(w.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::nth_element(order.begin(), order.begin() + count, order.end(), [&](size_t a, size_t b) {
    const float fa = std::abs(w[a]), fb = std::abs(w[b]);
    return fa < fb || (fa == fb && a < b);
  });
  for (size_t i = 0; i < count; ++i) w[order[i]] = 0.0f;
}

inline std::string prune_weights(const std::string& onnx_bytes, double fraction) {
  ::onnx::ModelProto model;
  model.ParseFromString(onnx_bytes);
  std::set<std::string> weights;
  for (const auto& node : model.graph().node())
    if ((node.op_type() == "Conv" || node.op_type() == "Gemm" || node.op_type() == "MatMul") &&
        node.input_size() > 1)
      weights.insert(node.input(1));
  for (auto& t : *model.mutable_graph()->mutable_initializer()) {
    if (!weights.count(t.name()) || t.data_type() != ::onnx::TensorProto::FLOAT) continue;
    std::vector<float> w;
    if (t.has_raw_data()) {
      w.resize(t.raw_data().size() / sizeof(float));
      std::memcpy(w.data(), t.raw_data().data(), w.size() * sizeof(float));
    } else {
      w.assign(t.float_data().begin(), t.float_data().end());
      t.clear_float_data();
    }
    prune_smallest(w, fraction);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(float)));
  }
  return model.SerializeAsString();
}

}  // namespace pitlane::runtime::testing
