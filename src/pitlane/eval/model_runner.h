// Running an ONNX driving model on preprocessed batches, behind one small interface so that
// offline evaluation does not care which engine executes the graph.
//
// The engine is pitlane's runtime where it can load the model, else a libtorch interpreter of
// the ONNX graph (torch_executor.cpp) that accepts any model of this shape built from common
// operators (PilotNet as pitlane writes it, PyTorch or tf2onnx exports).
//
//   OpenedModel m = open_model("model.onnx", /*threads=*/2);
//   std::vector<float> in(n * input_size(m.metadata.preprocess)), out(n * m.output_count);
//   m.runner->run(in, n, out);
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "pitlane/data/model_metadata.h"
#include "pitlane/eval/onnx_graph.h"

namespace pitlane::eval {

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  // input: batch x C x H x W floats (the model's preprocessed input); output: batch x outputs.
  virtual void run(std::span<const float> input, int64_t batch, std::span<float> output) = 0;
};

struct OpenedModel {
  data::ModelMetadata metadata;  // from metadata_props; defaults where a key is absent
  int64_t channels = 3, height = 66, width = 200;  // input image shape
  int64_t output_count = 2;                        // values per sample (v, w)
  std::string input_name, output_name;
  std::string engine;  // "runtime" or "libtorch"
  std::unique_ptr<ModelRunner> runner;
};

// Reads `path`, checks it has the driving-model shape (one float input [N,3,H,W] matching its
// preprocessing metadata, one output [N,K] with K output names) and prepares an executor.
// InputError naming the file otherwise.
OpenedModel open_model(const std::filesystem::path& path, int threads);

// The libtorch interpreter of an ONNX graph (defined in torch_executor.cpp).
std::unique_ptr<ModelRunner> make_torch_runner(const OnnxGraph& graph, int threads);

}  // namespace pitlane::eval
