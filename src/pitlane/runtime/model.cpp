#include "pitlane/runtime/model.h"

#include "pitlane/core/error.h"
#include "pitlane/core/files.h"
#include "pitlane/onnx/import.h"
#include "pitlane/onnx/model_file.h"
#include "pitlane/runtime/backends/backend.h"
#include "pitlane/runtime/cpu_features.h"
#include "pitlane/runtime/passes/passes.h"

namespace pitlane::runtime {

bool Model::prefers_bf16() const {
  const auto compute = metadata().find("pitlane.compute");
  return compute != metadata().end() && compute->second == "bf16" && cpu_features().onednn_bf16;
}

int64_t TensorInfo::element_count() const {
  return runtime::element_count(shape);
}

Backend parse_backend(std::string_view name) {
  if (name == "auto") return Backend::automatic;
  if (name == "reference") return Backend::reference;
  if (name == "onednn") return Backend::onednn;
  throw InputError("unknown backend '" + std::string(name) + "'; use auto, reference or onednn");
}

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::automatic:
      return "auto";
    case Backend::reference:
      return "reference";
    case Backend::onednn:
      return "onednn";
  }
  return "?";
}

namespace {
std::vector<TensorInfo> infos(const Graph& g, const std::vector<int>& ids) {
  std::vector<TensorInfo> out;
  for (int id : ids) out.push_back({g.values[id].name, g.values[id].shape});
  return out;
}
}  // namespace

Model Model::load(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(path.string() + ": cannot read the model (" + ec.message() + ")");
  if (size > onnx::kMaxModelBytes)
    throw InputError(
        path.string() +
        ": file is larger than 1 GiB; pitlane loads models with all tensors inside the file");
  return from_bytes(read_file(path), path.string());
}

Model Model::from_bytes(std::string_view bytes, const std::string& source) {
  Model m;
  m.graph_ = onnx::import_model(bytes, source);
  // Validate every node now (batch 1), so that a bad file fails at load, not at first use.
  int64_t batch = 1;  // a model with a fixed batch is probed at that batch
  for (int id : m.graph_.inputs)
    if (m.graph_.values[id].shape[0] > 0) batch = m.graph_.values[id].shape[0];
  Graph probe = instantiate(m.graph_, batch);
  optimize(probe);
  m.inputs_ = infos(m.graph_, m.graph_.inputs);
  m.outputs_ = infos(probe, probe.outputs);
  // Output batch dimension: dynamic when the input's is (same convention as the inputs).
  bool dynamic = false;
  for (const auto& in : m.inputs_) dynamic |= !in.shape.empty() && in.shape[0] == -1;
  if (dynamic) {
    Graph probe2 = instantiate(m.graph_, batch + 1);
    for (size_t i = 0; i < m.outputs_.size(); ++i) {
      const auto& s2 = probe2.values[probe2.outputs[i]].shape;
      if (!s2.empty() && !m.outputs_[i].shape.empty() && s2[0] != m.outputs_[i].shape[0])
        m.outputs_[i].shape[0] = -1;
    }
  }
  return m;
}

Session::Session(const Model& model, const SessionOptions& options)
    : graph_(std::make_unique<Graph>(instantiate(model.graph(), options.batch))),
      backend_(options.backend) {
  if (options.threads < 1 || options.threads > 1024)
    throw InputError("--threads " + std::to_string(options.threads) +
                     " is out of range; use 1 or more");
  optimize(*graph_);
  if (backend_ == Backend::automatic) backend_ = Backend::onednn;
  const PlanOptions plan_options{.threads = options.threads,
                                 .bf16 = options.bf16,
                                 .sparse = options.sparse,
                                 .skip_zero_inputs = options.skip_zero_inputs};
  if (options.bf16 && backend_ != Backend::onednn)
    throw InputError("bf16 is available on the onednn backend only");
  plan_ = backend_ == Backend::reference ? make_reference_plan(*graph_, plan_options)
                                         : make_onednn_plan(*graph_, plan_options);
  inputs_ = infos(*graph_, graph_->inputs);
  outputs_ = infos(*graph_, graph_->outputs);
  in_ptrs_.assign(inputs_.size(), nullptr);
  out_ptrs_.assign(outputs_.size(), nullptr);
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

void Session::bind(std::span<const std::span<const float>> inputs,
                   std::span<const std::span<float>> outputs) {
  if (inputs.size() != inputs_.size() || outputs.size() != outputs_.size())
    throw InputError("the model takes " + std::to_string(inputs_.size()) + " input(s) and gives " +
                     std::to_string(outputs_.size()) + " output(s)");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (static_cast<int64_t>(inputs[i].size()) != inputs_[i].element_count())
      throw InputError("input '" + inputs_[i].name + "' needs " +
                       std::to_string(inputs_[i].element_count()) + " values, got " +
                       std::to_string(inputs[i].size()));
    in_ptrs_[i] = inputs[i].data();
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (static_cast<int64_t>(outputs[i].size()) != outputs_[i].element_count())
      throw InputError("output '" + outputs_[i].name + "' needs " +
                       std::to_string(outputs_[i].element_count()) + " values, got " +
                       std::to_string(outputs[i].size()));
    out_ptrs_[i] = outputs[i].data();
  }
}

void Session::run(std::span<const std::span<const float>> inputs,
                  std::span<const std::span<float>> outputs) {
  bind(inputs, outputs);
  plan_->run(in_ptrs_, out_ptrs_);
}

void Session::run(std::span<const float> input, std::span<float> output) {
  const std::span<const float> ins[1] = {input};
  const std::span<float> outs[1] = {output};
  run(ins, outs);
}

void Session::run_profiled(std::span<const std::span<const float>> inputs,
                           std::span<const std::span<float>> outputs, std::span<double> step_us) {
  bind(inputs, outputs);
  if (step_us.size() != plan_->num_steps())
    throw InputError("step_us must hold num_steps() values");
  plan_->run(in_ptrs_, out_ptrs_, step_us);
}

size_t Session::num_steps() const {
  return plan_->num_steps();
}
const std::string& Session::step_name(size_t i) const {
  return plan_->step_name(i);
}
size_t Session::arena_bytes() const {
  return plan_->arena_bytes();
}
size_t Session::constant_bytes() const {
  return plan_->constant_bytes();
}

}  // namespace pitlane::runtime
