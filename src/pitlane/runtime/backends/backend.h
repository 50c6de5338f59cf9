// What every backend provides: an executable plan compiled from an optimized graph.
//
// make_*_plan() does all the work that can be done once (kernel parameters, oneDNN primitives,
// weight reorders, the arena); Plan::run() only computes, on caller-owned buffers, without
// allocating. Backends live one per folder with the same file names (conv.cpp, gemm.cpp, ...).
//
//   auto plan = make_onednn_plan(graph, {.threads = 1});
//   plan->run({x.data()}, {y.data()});
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "pitlane/runtime/graph.h"

namespace pitlane::runtime {

struct PlanOptions {
  int threads = 1;    // worker threads for the backend's kernels
  bool bf16 = false;  // oneDNN only: bf16 compute for Conv/Gemm (cpu_features().onednn_bf16)
  SparseGemmMode sparse = SparseGemmMode::automatic;  // oneDNN only: sparse Gemm kernel
  bool skip_zero_inputs = true;  // oneDNN only: zero-skipping kernel for large batch <= 4 Gemms
};

class Plan {
 public:
  virtual ~Plan() = default;
  // One pointer per graph input / output, each holding the graph's shape in float32.
  // step_us: empty, or num_steps() slots that receive each step's time in microseconds.
  virtual void run(std::span<const float* const> inputs, std::span<float* const> outputs,
                   std::span<double> step_us = {}) = 0;
  virtual size_t num_steps() const = 0;
  virtual const std::string& step_name(size_t i) const = 0;  // "conv1 (Conv+relu)"
  virtual size_t arena_bytes() const = 0;                    // intermediate tensors
  virtual size_t constant_bytes() const = 0;                 // weights as the plan holds them
};

// Plans keep a reference to `g` (its constants are read at run time): g must outlive the plan.
std::unique_ptr<Plan> make_reference_plan(const Graph& g, const PlanOptions& options);
std::unique_ptr<Plan> make_onednn_plan(const Graph& g, const PlanOptions& options);

}  // namespace pitlane::runtime
