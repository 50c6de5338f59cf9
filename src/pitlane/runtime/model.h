// pitlane's inference runtime: load an ONNX model, inspect it, run it on caller-owned buffers.
//
// A Model is the imported, validated graph (immutable, batch left symbolic). A Session compiles
// it for one batch size on one backend: passes, kernels or oneDNN primitives, weight reorders and
// the activation arena all happen in the constructor; run() only computes and does not allocate.
//
//   auto model = pitlane::runtime::Model::load("pilotnet.onnx");
//   pitlane::runtime::Session session(model, {.backend = Backend::onednn, .threads = 1, .batch =
//   1}); std::vector<float> x(session.inputs()[0].element_count()),
//   y(session.outputs()[0].element_count()); session.run(x, y); // one input, one output
//   session.run({{x}}, {{y}});                            // the general form
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pitlane/runtime/graph.h"

namespace pitlane::runtime {

class Plan;

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // -1 = dynamic batch (Model); concrete in a Session
  int64_t element_count() const;
};

enum class Backend { automatic, reference, onednn };
// "auto" | "reference" | "onednn"; InputError otherwise.
Backend parse_backend(std::string_view name);
const char* backend_name(Backend b);

class Model {
 public:
  // InputError (one line: file, place, fix) for anything the runtime cannot load.
  static Model load(const std::filesystem::path& path);
  static Model from_bytes(std::string_view bytes, const std::string& source);

  const std::vector<TensorInfo>& inputs() const { return inputs_; }
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  const std::map<std::string, std::string>& metadata() const { return graph_.metadata; }
  // The model asks for bf16 compute (pitlane.compute = bf16, as the bf16 recipe writes it) and
  // this CPU has it: sessions should set SessionOptions::bf16.
  bool prefers_bf16() const;
  const Graph& graph() const { return graph_; }  // as imported (symbolic batch)
  int64_t opset() const { return graph_.opset; }

 private:
  Graph graph_;
  std::vector<TensorInfo> inputs_, outputs_;
};

struct SessionOptions {
  Backend backend = Backend::automatic;  // automatic = onednn
  int threads = 1;                       // kernel threads (1 = the closed-loop default)
  int64_t batch = 1;                     // fills the dynamic batch dimension
  bool bf16 = false;  // oneDNN bf16 compute (CPUs with AVX-512: cpu_features().onednn_bf16)
  SparseGemmMode sparse = SparseGemmMode::automatic;  // oneDNN: sparse kernel for pruned Gemms
  // oneDNN: large fp32 Gemms at batch <= 4 read only the weights of nonzero inputs
  // (kernels/zero_skip_gemm/f32.h); false = oneDNN's dense inner product.
  bool skip_zero_inputs = true;
};

class Session {
 public:
  Session(const Model& model, const SessionOptions& options);
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  const std::vector<TensorInfo>& inputs() const { return inputs_; }  // concrete shapes
  const std::vector<TensorInfo>& outputs() const { return outputs_; }
  Backend backend() const { return backend_; }
  const Graph& graph() const { return *graph_; }  // after the passes

  // One span per graph input / output, each exactly element_count() floats (InputError if not).
  void run(std::span<const std::span<const float>> inputs,
           std::span<const std::span<float>> outputs);
  void run(std::span<const float> input, std::span<float> output);
  // Same as run(), timing each plan step (step_us.size() == num_steps()).
  void run_profiled(std::span<const std::span<const float>> inputs,
                    std::span<const std::span<float>> outputs, std::span<double> step_us);

  size_t num_steps() const;
  const std::string& step_name(size_t i) const;
  size_t arena_bytes() const;
  size_t constant_bytes() const;

 private:
  void bind(std::span<const std::span<const float>> inputs,
            std::span<const std::span<float>> outputs);

  std::unique_ptr<Graph> graph_;  // stable address: the plan reads its constants
  Backend backend_;
  std::vector<TensorInfo> inputs_, outputs_;
  std::unique_ptr<Plan> plan_;
  std::vector<const float*> in_ptrs_;  // bound pointers, sized at construction
  std::vector<float*> out_ptrs_;
};

}  // namespace pitlane::runtime
